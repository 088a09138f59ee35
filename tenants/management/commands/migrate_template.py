"""Create (if missing) and migrate the template schema that new tenants are cloned from."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection


class Command(BaseCommand):
    help = "Create and migrate the tenant template schema (settings.TENANT_BASE_SCHEMA)."

    def handle(self, *args, **options):
        schema = settings.TENANT_BASE_SCHEMA
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        call_command(
            "migrate_schemas",
            tenant=True,
            schema_name=schema,
            interactive=False,
            verbosity=options["verbosity"],
        )
