"""Roster import: an admin uploads a roster file, sees what it would change (the preview, with
every bad row in plain words) and confirms; the import then writes memberships and invitations
(through tenants' services, in the public schema) and classes and enrolments (here, in the
tenant's schema) in one transaction. Importing the same file again changes nothing: people are
matched by their OneRoster sourcedId or their email, classes by sourcedId or name.

The preview reads in bulk: a fixed number of queries whatever the file's length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing import selectors as billing_selectors
from learning import page_parts
from learning.errors import DomainError, LimitReached, PermissionDenied
from learning.models import Classroom, RosterClass, RosterImport, RosterPerson
from learning.roster import parsing
from learning.roster.parsing import Person, Roster, RowError
from tenants import services as tenants_services
from tenants.models import ADMIN_ROLES, Invitation, Membership, Role

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def _require_admin(member: Membership) -> None:
    if member is None or member.role not in ADMIN_ROLES:
        raise PermissionDenied("Only the owner and admins can import a roster.", code="forbidden")


@dataclass
class Preview:
    """What confirming an import would do, and the rows it would leave out."""

    layout: str
    rows: int
    errors: list[RowError]
    skipped: int
    sign_in: str
    people_new: list[Person] = field(default_factory=list)
    people_unchanged: int = 0
    classes_new: list[str] = field(default_factory=list)
    classes_renamed: list[tuple[Classroom, str]] = field(default_factory=list)
    classes_unchanged: int = 0
    class_links_new: list[tuple[str, str]] = field(default_factory=list)  # (sourcedId, name)
    enrolments_new: int = 0
    enrolments_unchanged: int = 0
    limit_message: str = ""
    # What the import needs, found by the preview's bulk reads.
    good_people: list[Person] = field(default_factory=list)
    user_ids: dict[str, int] = field(default_factory=dict)  # email → member's user id
    links: dict[str, RosterPerson] = field(default_factory=dict)  # email → record
    classroom_ids: dict[str, int] = field(default_factory=dict)  # class key → id
    class_names: dict[str, str] = field(default_factory=dict)  # class key → name

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "errors": len(self.errors),
            "skipped": self.skipped,
            "people_created": len(self.people_new),
            "people_unchanged": self.people_unchanged,
            "classes_created": len(self.classes_new),
            "classes_updated": len(self.classes_renamed),
            "classes_unchanged": self.classes_unchanged,
            "enrolments_created": self.enrolments_new,
            "enrolments_unchanged": self.enrolments_unchanged,
        }

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.people_new
            or self.classes_new
            or self.classes_renamed
            or self.enrolments_new
            or self.class_links_new
        )


def roster_upload(
    *, member: Membership, uploads: list[tuple[str, bytes]], sign_in: str
) -> RosterImport:
    """Keep an uploaded roster for its preview; RosterFileError when it cannot be read."""
    _require_admin(member)
    if sign_in not in RosterImport.SignIn.values:
        raise DomainError("Choose how people sign in.", code="sign_in_invalid")
    if sum(len(content) for _name, content in uploads) > MAX_UPLOAD_BYTES:
        raise DomainError("The roster is larger than 10 MB. Split it.", code="roster_too_large")
    files = parsing.read_files(uploads)
    parsing.parse(files)  # refuse now what cannot be read at all
    return RosterImport.objects.create(
        uploaded_by=member.user,
        files=files,
        sign_in=sign_in,
        file_names=", ".join(name for name, _content in uploads)[:500],
    )


def roster_preview(*, member: Membership, roster_import: RosterImport) -> Preview:
    """What importing `roster_import` would create, change and leave as it is, row by row."""
    _require_admin(member)
    roster = parsing.parse(roster_import.files)
    return _plan(roster, sign_in=roster_import.sign_in)


def _plan(roster: Roster, *, sign_in: str) -> Preview:
    preview = Preview(
        layout=roster.layout,
        rows=roster.rows,
        errors=list(roster.errors),
        skipped=roster.skipped,
        sign_in=sign_in,
    )
    tenant = connection.tenant
    classes = _plan_classes(roster, preview)
    emails = [person.email for person in roster.people]
    sourced_ids = [person.sourced_id for person in roster.people if person.sourced_id]
    records = list(RosterPerson.objects.filter(Q(email__in=emails) | Q(sourced_id__in=sourced_ids)))
    by_email = {record.email: record for record in records}
    by_sourced_id = {record.sourced_id: record for record in records if record.sourced_id}
    memberships = {
        email: (role, user_id)
        for email, role, user_id in Membership.objects.filter(
            tenant=tenant, user__email__in=emails
        ).values_list("user__email", "role", "user_id")
    }
    invited = dict(
        Invitation.objects.filter(
            tenant=tenant,
            email__in=emails,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).values_list("email", "role")
    )

    for person in roster.people:
        record = by_sourced_id.get(person.sourced_id) if person.sourced_id else None
        if record is not None and record.email != person.email:
            preview.errors.append(
                RowError(
                    person.file,
                    person.row,
                    "email",
                    f"{person.sourced_id} was imported before as {record.email}; a roster does not "
                    "change the address someone signs in with.",
                )
            )
            continue
        record = record or by_email.get(person.email)
        if (
            record is not None
            and record.sourced_id
            and record.sourced_id != (person.sourced_id or record.sourced_id)
        ):
            preview.errors.append(
                RowError(
                    person.file,
                    person.row,
                    "sourcedId",
                    f"{person.email} was imported before with the sourcedId {record.sourced_id}.",
                )
            )
            continue
        current = memberships.get(person.email)
        current_role = current[0] if current else invited.get(person.email)
        if current_role is not None and current_role != person.role:
            preview.errors.append(
                RowError(
                    person.file,
                    person.row,
                    "role",
                    f"{person.email} is already {'a member' if current else 'invited'} here as "
                    f"{_a(current_role)}; the file says {person.role}. Change their role on the "
                    "Members page if the file is right.",
                )
            )
            continue
        preview.good_people.append(person)
        if record is not None:
            preview.links[person.email] = record
        if current is not None:
            preview.user_ids[person.email] = current[1]
            preview.people_unchanged += 1
        elif person.email in invited and sign_in == RosterImport.SignIn.INVITATION:
            preview.people_unchanged += 1
        else:
            preview.people_new.append(person)

    _plan_enrolments(preview, classes)
    _plan_limit(preview, tenant)
    preview.errors.sort(key=lambda error: (error.file, error.row))
    return preview


def _a(role: str) -> str:
    return f"an {role}" if role[0] in "aeiou" else f"a {role}"


def _plan_classes(roster: Roster, preview: Preview) -> dict[str, int | None]:
    """Class key → the existing classroom's id (None: to be created)."""
    keys: dict[str, int | None] = {}
    titles = [row.title for row in roster.classes]
    by_name = {c.name: c for c in Classroom.objects.filter(name__in=titles)}
    links: dict[str, RosterClass] = {}
    linked_ids: dict[int, str] = {}
    if roster.layout == "oneroster":
        for link in RosterClass.objects.filter(
            Q(sourced_id__in=[row.sourced_id for row in roster.classes])
            | Q(classroom__name__in=titles)
        ).select_related("classroom"):
            links[link.sourced_id] = link
            linked_ids[link.classroom_id] = link.sourced_id
    for row in roster.classes:
        preview.class_names[row.key] = row.title
        link = links.get(row.sourced_id) if row.sourced_id else None
        if link is not None:
            keys[row.key] = link.classroom_id
            if link.classroom.name == row.title:
                preview.classes_unchanged += 1
            elif row.title in by_name and by_name[row.title].pk != link.classroom_id:
                preview.errors.append(
                    RowError(
                        row.file,
                        row.row,
                        "title",
                        f"The class is renamed “{row.title}”, and another class has that name.",
                    )
                )
                keys[row.key] = link.classroom_id
            else:
                preview.classes_renamed.append((link.classroom, row.title))
            continue
        existing = by_name.get(row.title)
        if existing is None:
            keys[row.key] = None
            preview.classes_new.append(row.title)
            if row.sourced_id:
                preview.class_links_new.append((row.sourced_id, row.title))
            continue
        if row.sourced_id and existing.pk in linked_ids:
            preview.errors.append(
                RowError(
                    row.file,
                    row.row,
                    "title",
                    f"The class “{row.title}” came from another roster class "
                    f"({linked_ids[existing.pk]}). Rename one of them.",
                )
            )
            keys[row.key] = existing.pk
            continue
        keys[row.key] = existing.pk
        preview.classes_unchanged += 1
        if row.sourced_id:
            preview.class_links_new.append((row.sourced_id, row.title))
    return keys


def _plan_enrolments(preview: Preview, classes: dict[str, int | None]) -> None:
    existing_ids = {pk for pk in classes.values() if pk is not None}
    through = Classroom.students.through
    enrolled = set(
        through.objects.filter(
            classroom_id__in=existing_ids, user_id__in=preview.user_ids.values()
        ).values_list("classroom_id", "user_id")
    )
    for person in preview.good_people:
        pending = set(getattr(preview.links.get(person.email), "pending_class_ids", []) or [])
        user_id = preview.user_ids.get(person.email)
        for key in person.class_keys:
            classroom_id = classes.get(key)
            if classroom_id is not None and (
                (classroom_id, user_id) in enrolled or (user_id is None and classroom_id in pending)
            ):
                preview.enrolments_unchanged += 1
            else:
                preview.enrolments_new += 1
    preview.classroom_ids = {key: pk for key, pk in classes.items() if pk is not None}


def _plan_limit(preview: Preview, tenant) -> None:
    """The plan's student limit, for the accounts made now (SSO); invitations are checked as
    each is accepted."""
    new_students = sum(1 for person in preview.people_new if person.role == Role.STUDENT)
    if not new_students:
        return
    entitlements = billing_selectors.entitlements_for_tenant(tenant)
    limit = entitlements.limits.students
    if limit is None:
        return
    have = billing_selectors.student_count(tenant=tenant)
    if have + new_students <= limit:
        return
    room = max(limit - have, 0)
    adds = f"{new_students} student" + ("" if new_students == 1 else "s")
    place = f"the {entitlements.plan.name} plan takes {limit} and {tenant.name} has {have}"
    if preview.sign_in == RosterImport.SignIn.SSO:
        preview.limit_message = (
            f"This file adds {adds}; {place}. Nothing can be imported until the owner "
            f"upgrades or the file has at most {room} new students."
        )
    else:
        can = f"only {room}" if room else "none"
        preview.limit_message = (
            f"This file invites {adds}; {place}: {can} will be able to accept until the "
            "owner upgrades."
        )


@transaction.atomic
def roster_import(
    *, member: Membership, roster_import: RosterImport, include_good_rows: bool = False
) -> dict[str, int]:
    """Import a previewed roster in one transaction; with bad rows only when the admin chose
    to import the good ones. The counts of what it did."""
    _require_admin(member)
    roster_import = RosterImport.objects.select_for_update().get(pk=roster_import.pk)
    if roster_import.status == RosterImport.Status.IMPORTED:
        raise DomainError("This file was already imported.", code="roster_imported")
    preview = _plan(parsing.parse(roster_import.files), sign_in=roster_import.sign_in)
    if preview.errors and not include_good_rows:
        raise DomainError(
            f"The file has {len(preview.errors)} row{'s' if len(preview.errors) > 1 else ''} "
            "with errors. Fix them, or choose to import the other rows.",
            code="roster_has_errors",
        )
    if preview.limit_message and roster_import.sign_in == RosterImport.SignIn.SSO:
        raise LimitReached(preview.limit_message, code="student_limit")

    classroom_ids = dict(preview.classroom_ids)
    page_parts.bump()  # classes and enrolments are bulk-written: no signal
    created = Classroom.objects.bulk_create(
        [Classroom(name=name, created_by=member.user) for name in preview.classes_new]
    )
    by_name = {classroom.name: classroom.pk for classroom in created}
    for key, name in preview.class_names.items():
        if key not in classroom_ids and name in by_name:
            classroom_ids[key] = by_name[name]
    for classroom, title in preview.classes_renamed:
        classroom.name = title
        classroom.save(update_fields=["name", "updated_at"])
    all_names = {c.name: c.pk for c in created}
    all_names.update(
        Classroom.objects.filter(
            name__in=[name for _sid, name in preview.class_links_new if name not in all_names]
        ).values_list("name", "pk")
    )
    RosterClass.objects.bulk_create(
        [
            RosterClass(sourced_id=sourced_id, classroom_id=all_names[name])
            for sourced_id, name in preview.class_links_new
        ]
    )

    users = tenants_services.members_import(
        tenant=connection.tenant,
        actor=member.user,
        sign_in=roster_import.sign_in,
        entries=[
            tenants_services.RosterEntry(
                email=person.email, full_name=person.full_name, role=person.role
            )
            for person in preview.good_people
        ],
    )
    user_ids = {email: user.pk for email, user in users.items()}
    _save_people(preview, user_ids, classroom_ids, sign_in=roster_import.sign_in)
    through = Classroom.students.through
    through.objects.bulk_create(
        [
            through(classroom_id=classroom_ids[key], user_id=user_ids[person.email])
            for person in preview.good_people
            if person.email in user_ids
            for key in person.class_keys
        ],
        ignore_conflicts=True,
    )
    counts = preview.counts
    roster_import.status = RosterImport.Status.IMPORTED
    roster_import.counts = counts
    roster_import.imported_at = timezone.now()
    roster_import.save(update_fields=["status", "counts", "imported_at", "updated_at"])
    tenants_services.audit(
        actor=member.user,
        tenant=connection.tenant,
        action="roster.imported",
        layout=preview.layout,
        sign_in=roster_import.sign_in,
        roster_import=str(roster_import.public_id),
        **counts,
    )
    return counts


def _save_people(
    preview: Preview, user_ids: dict[str, int], classroom_ids: dict[str, int], *, sign_in: str
) -> None:
    new, changed = [], []
    for person in preview.good_people:
        user_id = user_ids.get(person.email)
        pending = [] if user_id else sorted({classroom_ids[key] for key in person.class_keys})
        record = preview.links.get(person.email)
        if record is None:
            new.append(
                RosterPerson(
                    sourced_id=person.sourced_id or None,
                    email=person.email,
                    user_id=user_id,
                    sign_in=sign_in,
                    pending_class_ids=pending,
                )
            )
            continue
        pending = sorted(set(record.pending_class_ids) | set(pending)) if not user_id else []
        if (record.user_id, record.sourced_id, record.pending_class_ids) != (
            user_id,
            record.sourced_id or person.sourced_id or None,
            pending,
        ):
            record.user_id = user_id
            record.sourced_id = record.sourced_id or person.sourced_id or None
            record.pending_class_ids = pending
            changed.append(record)
    RosterPerson.objects.bulk_create(new)
    RosterPerson.objects.bulk_update(changed, ["user", "sourced_id", "pending_class_ids"])


def roster_enrol_pending(*, user) -> int:
    """Put someone who has just accepted a roster's invitation into the classes it named (run
    inside the tenant's schema). How many classes they joined."""
    record = RosterPerson.objects.filter(email=user.email, user__isnull=True).first()
    if record is None:
        return 0
    through = Classroom.students.through
    class_ids = list(
        Classroom.objects.filter(pk__in=record.pending_class_ids).values_list("pk", flat=True)
    )
    page_parts.bump()  # a bulk write: no signal
    through.objects.bulk_create(
        [through(classroom_id=pk, user_id=user.pk) for pk in class_ids], ignore_conflicts=True
    )
    record.user = user
    record.pending_class_ids = []
    record.save(update_fields=["user", "pending_class_ids", "updated_at"])
    return len(class_ids)


def simple_template() -> str:
    """The simple layout's CSV template."""
    return parsing.simple_template()
