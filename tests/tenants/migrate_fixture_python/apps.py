from django.apps import AppConfig


class MigrateFixturePythonConfig(AppConfig):
    name = "tests.tenants.migrate_fixture_python"
    label = "migrate_fixture_python"
    default_auto_field = "django.db.models.BigAutoField"
