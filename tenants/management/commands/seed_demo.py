"""Demo data for `make dev`: a school, a studio, a teacher, two students and a staff account.

Idempotent: it creates what is missing and leaves everything else alone, so it runs on every
`make dev`. The accounts are for a developer's machine only; the command refuses to run
without DEBUG so that a production shell cannot create them by accident.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tenants import hosts, services
from tenants.models import Membership, Role, Tenant, User

PASSWORD = "practika-demo"  # noqa: S105 - development accounts only (see the DEBUG check)

USERS = {
    "staff": ("staff@example.com", "Platform Staff"),
    "admin": ("admin@example.com", "Sam School-Admin"),
    "teacher": ("teacher@example.com", "Tess Teacher"),
    "student1": ("student1@example.com", "Stu One"),
    "student2": ("student2@example.com", "Stella Two"),
}
# slug -> (name, kind, owner, other members)
TENANTS = {
    "demo-school": (
        "Demo School of Music", Tenant.Kind.SCHOOL, "admin",
        [("teacher", Role.TEACHER), ("student1", Role.STUDENT), ("student2", Role.STUDENT)],
    ),
    "demo-studio": (
        "Tess's Piano Studio", Tenant.Kind.STUDIO, "teacher", [("student1", Role.STUDENT)],
    ),
}


def _user(key: str) -> User:
    email, full_name = USERS[key]
    user = User.objects.filter(email=email).first()
    if user is None:
        create = User.objects.create_superuser if key == "staff" else User.objects.create_user
        user = create(email=email, password=PASSWORD, full_name=full_name)
    return user


class Command(BaseCommand):
    help = "Create the demo school, studio and accounts if missing, and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Create, print nothing.")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo creates well-known passwords: development only.")
        users = {key: _user(key) for key in USERS}
        for slug, (name, kind, owner, members) in TENANTS.items():
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                tenant = services.tenant_create(
                    name=name, slug=slug, kind=kind, owner=users[owner]
                )
            for key, role in members:
                Membership.objects.get_or_create(
                    user=users[key], tenant=tenant, defaults={"role": role}
                )
        if not options["quiet"]:
            self.stdout.write(self._summary())

    def _summary(self) -> str:
        lines = [
            "Demo accounts (password for all: " + PASSWORD + ")",
            f"  {USERS['staff'][0]:<22} platform staff  {hosts.public_url('/staff/')}",
            f"  {USERS['admin'][0]:<22} owner of demo-school",
            f"  {USERS['teacher'][0]:<22} owner of demo-studio, teacher at demo-school",
            f"  {USERS['student1'][0]:<22} student at demo-school and demo-studio",
            f"  {USERS['student2'][0]:<22} student at demo-school",
            "",
            f"  public site   {hosts.public_url('/')}",
            *(f"  {slug:<13} {hosts.tenant_url(slug, '/')}" for slug in TENANTS),
        ]
        return "\n".join(lines)
