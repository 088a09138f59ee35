from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("migrate_fixture", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="probe", name="level", field=models.IntegerField(default=1),
        ),
        migrations.AddIndex(
            model_name="probe",
            index=models.Index(fields=["level", "name"], name="probe_level_name_idx"),
        ),
    ]
