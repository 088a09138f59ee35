"""The demo tenants' sample exercise for `make dev` (learning.demo_content): a demonstration
video and a student's reply, processed, aligned and commented, in demo-school and
demo-studio. Run after `seed_demo` (which makes the tenants and accounts); idempotent, and
development only, like it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context

from learning import demo_content
from tenants.management.commands.seed_demo import TENANTS, USERS
from tenants.models import Membership, Tenant


class Command(BaseCommand):
    help = "Add the sample exercise, reply and comment to the demo tenants if missing."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo_content is for development only.")
        teacher_email, student_email = USERS["teacher"][0], USERS["student1"][0]
        wanting = []
        for slug in TENANTS:
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                raise CommandError(f"{slug} does not exist: run seed_demo first.")
            with tenant_context(tenant):
                if not demo_content.demo_complete():
                    wanting.append(tenant)
        if not wanting:
            return
        self.stdout.write("Making the demo's sample exercise and reply (first start only)…")
        with tempfile.TemporaryDirectory(prefix="practika-demo-") as scratch:
            recordings = demo_content.demo_recordings(Path(scratch))
            for tenant in wanting:
                members = Membership.objects.select_related("user", "tenant").filter(tenant=tenant)
                teacher = members.get(user__email=teacher_email)
                student = members.get(user__email=student_email)
                with tenant_context(tenant):
                    demo_content.demo_content_ensure(
                        teacher=teacher, student=student, recordings=recordings
                    )
                self.stdout.write(f"  sample exercise added to {tenant.slug}")
