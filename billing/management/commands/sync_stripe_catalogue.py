"""Create or update the Stripe Products and Prices of billing.plans; safe on every deploy."""

from django.core.management.base import BaseCommand, CommandError

from billing import services
from tenants.errors import DomainError


class Command(BaseCommand):
    help = "Create or update Stripe Products and Prices from the plan catalogue (idempotent)."

    def handle(self, *args, **options):
        try:
            report = services.catalogue_sync()
        except DomainError as error:
            raise CommandError(error.message) from error
        for line in report or ["catalogue already up to date"]:
            self.stdout.write(line)
