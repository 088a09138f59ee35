"""What importing a roster costs (learning.roster): upload, preview and confirmed import.

    make bench                                   (or: python bench/roster_import.py)
    BENCH roster_import_1000_s <value> s
    BENCH roster_import_oneroster_1000_s <value> s

A school on the per-seat plan imports a 1,000-row simple CSV (980 students, 20 teachers, 20
classes) and a OneRoster 1.1 ZIP of 1,000 people in 10 classes, with accounts for the school's
sign-in (SSO). Each figure is the median wall time of 5 runs of the three services the pages
call (roster_upload, roster_preview, roster_import), each run in a savepoint rolled back
afterwards; the commit itself is not timed. Runs against the embedded PostgreSQL in
.data/postgres-bench; everything it creates is rolled back.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def _setup_django() -> None:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    os.environ.setdefault("PRACTIKA_EMBEDDED_PG_DIR", str(ROOT / ".data" / "postgres-bench"))
    os.environ.pop("DATABASE_URL", None)  # always the embedded server: comparable numbers
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ.setdefault("PRACTIKA_TENANT_SPARE_SCHEMAS", "0")
    import django

    django.setup()


def simple_csv() -> bytes:
    lines = ["email,first_name,last_name,role,class"]
    for i in range(1000):
        role = "teacher" if i % 50 == 0 else "student"
        lines.append(f"p{i}@bench.example.org,F{i},L{i},{role},{'' if i % 50 == 0 else i % 20}")
    return ("\r\n".join(lines) + "\r\n").encode()


def oneroster_zip() -> bytes:
    users = ["sourcedId,status,role,username,givenName,familyName,email"]
    enrolments = ["sourcedId,status,classSourcedId,userSourcedId,role"]
    for i in range(1000):
        role = "teacher" if i % 100 == 0 else "student"
        users.append(f"u{i},active,{role},u{i},G{i},F{i},u{i}@or-bench.example.org")
        enrolments.append(f"e{i},active,c{i % 10},u{i},{role}")
    classes = ["sourcedId,status,title"] + [f"c{c},active,Band {c}" for c in range(10)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, rows in (("users", users), ("classes", classes), ("enrollments", enrolments)):
            archive.writestr(f"{name}.csv", "\r\n".join(rows) + "\r\n")
    return buffer.getvalue()


def main() -> int:
    _setup_django()
    from django.core.management import call_command
    from django.db import transaction
    from django_tenants.utils import tenant_context

    from billing.models import Subscription
    from learning.roster import services as roster
    from tenants import services
    from tenants.models import Membership, User

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    call_command("migrate_template", verbosity=0)
    files = {
        "roster_import_1000_s": ("roster.csv", simple_csv()),
        "roster_import_oneroster_1000_s": ("export.zip", oneroster_zip()),
    }
    with transaction.atomic():
        run = uuid.uuid4().hex[:6]
        owner = User.objects.create_user(email=f"bench-{run}@example.com", password=None)
        tenant = services.tenant_create(
            name="Bench school", slug=f"bench-roster-{run}", kind="school", owner=owner
        )
        Subscription.objects.create(
            tenant=tenant, source="manual", plan_code="school", status="active", quantity=1
        )
        member = Membership.objects.select_related("user", "tenant").get(user=owner)
        with tenant_context(tenant):
            for name, (file_name, content) in files.items():
                timings = []
                for _ in range(RUNS):
                    with transaction.atomic():
                        started = time.perf_counter()
                        upload = roster.roster_upload(
                            member=member, uploads=[(file_name, content)], sign_in="sso"
                        )
                        preview = roster.roster_preview(member=member, roster_import=upload)
                        counts = roster.roster_import(member=member, roster_import=upload)
                        timings.append(time.perf_counter() - started)
                        assert not preview.errors and counts["people_created"] == 1000, counts
                        transaction.set_rollback(True)
                print(f"BENCH {name} {statistics.median(timings):.2f} s", flush=True)
        transaction.set_rollback(True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
