from django.apps import AppConfig


class TenantMigrationBenchConfig(AppConfig):
    name = "bench.tenant_migration_app"
    label = "bench_migration"
    default_auto_field = "django.db.models.BigAutoField"
