from django.db import migrations, models


def seed(apps, schema_editor):
    apps.get_model("migrate_fixture_python", "Seeded").objects.create(
        schema=schema_editor.connection.schema_name
    )


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Seeded",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("schema", models.CharField(max_length=63)),
            ],
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
