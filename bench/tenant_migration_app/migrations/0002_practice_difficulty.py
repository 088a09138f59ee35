from django.db import migrations, models


class Migration(migrations.Migration):
    """The measured migration: a new column with a default, and an index that uses it."""

    dependencies = [("bench_migration", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="practice", name="difficulty", field=models.IntegerField(default=1),
        ),
        migrations.AddIndex(
            model_name="practice",
            index=models.Index(fields=["difficulty", "created_at"], name="practice_difficulty_idx"),
        ),
    ]
