from django.apps import AppConfig


class MigrateFixtureConfig(AppConfig):
    name = "tests.tenants.migrate_fixture"
    label = "migrate_fixture"
    default_auto_field = "django.db.models.BigAutoField"
