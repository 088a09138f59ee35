"""Reading a roster file: the project's simple CSV or the OneRoster 1.1 CSV layout (Clever,
ClassLink), into plain rows and per-row errors in plain words. Nothing here touches the
database: `learning.roster.services` compares the rows with what the school already has.

The simple CSV has one row per person, with a header line:

    email,first_name,last_name,role,class

`role` is `teacher` or `student`; `class` is the name of a class (several separated by `;`),
created when the school has none of that name. A teacher's `class` is not stored (every
teacher sees every class).

OneRoster 1.1 comes as a ZIP or as its files: `users.csv` (sourcedId, status, role,
givenName, familyName, email, username), `classes.csv` (sourcedId, status, title) and
`enrollments.csv` (sourcedId, status, classSourcedId, userSourcedId, role); `orgs.csv`,
`manifest.csv` and the other files of the layout are read past. Only the `teacher` and
`student` roles are imported; guardians, aides, administrators and rows whose status is
`tobedeleted` are skipped and counted.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

SIMPLE_COLUMNS = ("email", "first_name", "last_name", "role", "class")
SIMPLE_REQUIRED = ("email", "role")
ONEROSTER_REQUIRED = {
    "users.csv": ("sourcedId", "role", "email"),
    "classes.csv": ("sourcedId", "title"),
    "enrollments.csv": ("classSourcedId", "userSourcedId", "role"),
}
IMPORTED_ROLES = ("teacher", "student")
# OneRoster 1.1 roles that are not people Practika teaches or teaches with.
ONEROSTER_SKIPPED_ROLES = ("administrator", "aide", "guardian", "parent", "proctor", "relative")
MAX_ROWS = 20_000
MAX_NAME = 120
MAX_TEXT = 50 * 1024 * 1024


class RosterFileError(ValueError):
    """The upload as a whole cannot be read (not CSV, a missing column, too many rows)."""


@dataclass
class RowError:
    file: str
    row: int  # the line in the file, header = 1
    column: str
    message: str


@dataclass
class Person:
    file: str
    row: int
    key: str  # sourcedId in OneRoster, the email in the simple layout
    sourced_id: str
    email: str
    first_name: str
    last_name: str
    role: str
    class_keys: list[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class ClassRow:
    file: str
    row: int
    key: str  # sourcedId in OneRoster, the name in the simple layout
    sourced_id: str
    title: str


@dataclass
class Roster:
    layout: str  # "simple" or "oneroster"
    people: list[Person] = field(default_factory=list)
    classes: list[ClassRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped: int = 0
    rows: int = 0


def read_files(uploads: list[tuple[str, bytes]]) -> dict[str, str]:
    """The text of each CSV uploaded, by lower-case base name; a ZIP is opened."""
    files: dict[str, str] = {}
    for name, content in uploads:
        if name.lower().endswith(".zip") or content[:4] == b"PK\x03\x04":
            try:
                with zipfile.ZipFile(io.BytesIO(content)) as archive:
                    for info in archive.infolist():
                        base = info.filename.rsplit("/", 1)[-1].lower()
                        if base.endswith(".csv") and not info.is_dir():
                            if info.file_size > 20 * 1024 * 1024:
                                raise RosterFileError(f"{base} in the ZIP is larger than 20 MB.")
                            files[base] = _text(base, archive.read(info))
            except zipfile.BadZipFile as error:
                raise RosterFileError(f"{name} is not a ZIP file that can be opened.") from error
        else:
            base = name.rsplit("/", 1)[-1].lower()
            files[base] = _text(base, content)
    if not files:
        raise RosterFileError("Choose a CSV file, or a OneRoster ZIP.")
    if sum(len(text) for text in files.values()) > MAX_TEXT:
        raise RosterFileError("The roster's files hold more than 50 MB of text. Split them.")
    return files


def _text(name: str, content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterFileError(
            f"{name} is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."
        ) from error


def parse(files: dict[str, str]) -> Roster:
    """The roster in `files`: OneRoster when there is a users.csv, else one simple CSV."""
    if "users.csv" in files:
        return _parse_oneroster(files)
    csvs = [name for name in files if name != "manifest.csv"]
    if len(csvs) != 1:
        raise RosterFileError(
            "Upload one CSV file, or the OneRoster files (users.csv, classes.csv, "
            "enrollments.csv) or their ZIP."
        )
    return _parse_simple(csvs[0], files[csvs[0]])


def _rows(name: str, text: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [column.strip() for column in reader.fieldnames or []]
    if not header:
        raise RosterFileError(f"{name} is empty.")
    reader.fieldnames = header
    missing = [column for column in required if column not in header]
    if missing:
        raise RosterFileError(
            f"{name} has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}. "
            f"Its first line must name the columns: {', '.join(required)}."
        )
    rows = []
    try:
        for line, row in enumerate(reader, start=2):
            if len(rows) >= MAX_ROWS:
                raise RosterFileError(f"{name} has more than {MAX_ROWS:,} rows. Split it.")
            values = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
            if any(values.values()):
                rows.append((line, values))
    except csv.Error as error:
        raise RosterFileError(f"{name} is not a CSV file that can be read: {error}.") from error
    return rows


def _email_error(email: str) -> str | None:
    if not email:
        return "The email is missing."
    try:
        validate_email(email)
    except ValidationError:
        return f"“{email}” is not an email address."
    return None


def _parse_simple(name: str, text: str) -> Roster:
    roster = Roster(layout="simple")
    rows = _rows(name, text, SIMPLE_REQUIRED)
    roster.rows = len(rows)
    seen: dict[str, int] = {}
    classes: dict[str, ClassRow] = {}
    for line, row in rows:
        email = row.get("email", "").lower()
        role = row.get("role", "").lower()
        problem = _email_error(email)
        if problem:
            roster.errors.append(RowError(name, line, "email", problem))
            continue
        if role not in IMPORTED_ROLES:
            roster.errors.append(
                RowError(
                    name,
                    line,
                    "role",
                    f"The role “{row.get('role', '')}” is unknown: write teacher or student."
                    if role
                    else "The role is missing: write teacher or student.",
                )
            )
            continue
        if email in seen:
            roster.errors.append(
                RowError(
                    name, line, "email", f"{email} is already on row {seen[email]} of this file."
                )
            )
            continue
        class_names = [c.strip() for c in row.get("class", "").split(";") if c.strip()]
        too_long = [c for c in class_names if len(c) > MAX_NAME]
        if too_long:
            roster.errors.append(
                RowError(name, line, "class", f"A class name is longer than {MAX_NAME} characters.")
            )
            continue
        seen[email] = line
        if role == "teacher":
            class_names = []
        for class_name in class_names:
            classes.setdefault(class_name, ClassRow(name, line, class_name, "", class_name))
        roster.people.append(
            Person(
                file=name,
                row=line,
                key=email,
                sourced_id="",
                email=email,
                first_name=row.get("first_name", ""),
                last_name=row.get("last_name", ""),
                role=role,
                class_keys=class_names,
            )
        )
    roster.classes = list(classes.values())
    return roster


def _parse_oneroster(files: dict[str, str]) -> Roster:
    roster = Roster(layout="oneroster")
    for name in ("classes.csv", "enrollments.csv"):
        if name not in files:
            raise RosterFileError(
                f"The OneRoster files have no {name}. Upload users.csv, classes.csv and "
                "enrollments.csv together, or the ZIP your roster service exported."
            )
    users = _rows("users.csv", files["users.csv"], ONEROSTER_REQUIRED["users.csv"])
    classes = _rows("classes.csv", files["classes.csv"], ONEROSTER_REQUIRED["classes.csv"])
    enrolments = _rows(
        "enrollments.csv", files["enrollments.csv"], ONEROSTER_REQUIRED["enrollments.csv"]
    )
    roster.rows = len(users) + len(classes) + len(enrolments)

    people: dict[str, Person] = {}
    skipped_people: set[str] = set()
    emails: dict[str, int] = {}
    for line, row in users:
        sourced_id, role = row.get("sourcedId", ""), row.get("role", "").lower()
        if not sourced_id:
            roster.errors.append(
                RowError("users.csv", line, "sourcedId", "The sourcedId is missing.")
            )
            continue
        if sourced_id in people or sourced_id in skipped_people:
            roster.errors.append(
                RowError(
                    "users.csv",
                    line,
                    "sourcedId",
                    f"The sourcedId {sourced_id} is on another row of users.csv too.",
                )
            )
            continue
        if row.get("status", "").lower() == "tobedeleted" or role in ONEROSTER_SKIPPED_ROLES:
            skipped_people.add(sourced_id)
            roster.skipped += 1
            continue
        if role not in IMPORTED_ROLES:
            roster.errors.append(
                RowError(
                    "users.csv",
                    line,
                    "role",
                    f"The role “{row.get('role', '')}” is not a OneRoster role."
                    if role
                    else "The role is missing.",
                )
            )
            continue
        email = row.get("email", "").lower()
        problem = _email_error(email)
        if problem:
            if not email:
                problem = "The email is missing; accounts without an email are not imported."
            roster.errors.append(RowError("users.csv", line, "email", problem))
            continue
        if email in emails:
            roster.errors.append(
                RowError(
                    "users.csv",
                    line,
                    "email",
                    f"{email} is already on row {emails[email]} of users.csv.",
                )
            )
            continue
        emails[email] = line
        people[sourced_id] = Person(
            file="users.csv",
            row=line,
            key=sourced_id,
            sourced_id=sourced_id,
            email=email,
            first_name=row.get("givenName", ""),
            last_name=row.get("familyName", ""),
            role=role,
        )

    titles: dict[str, int] = {}
    known_classes: dict[str, ClassRow] = {}
    deleted_classes: set[str] = set()
    for line, row in classes:
        sourced_id, title = row.get("sourcedId", ""), row.get("title", "")
        if not sourced_id:
            roster.errors.append(
                RowError("classes.csv", line, "sourcedId", "The sourcedId is missing.")
            )
            continue
        if sourced_id in known_classes or sourced_id in deleted_classes:
            roster.errors.append(
                RowError(
                    "classes.csv",
                    line,
                    "sourcedId",
                    f"The sourcedId {sourced_id} is on another row of classes.csv too.",
                )
            )
            continue
        if row.get("status", "").lower() == "tobedeleted":
            deleted_classes.add(sourced_id)
            roster.skipped += 1
            continue
        if not title:
            roster.errors.append(RowError("classes.csv", line, "title", "The title is missing."))
            continue
        if len(title) > MAX_NAME:
            roster.errors.append(
                RowError(
                    "classes.csv", line, "title", f"The title is longer than {MAX_NAME} characters."
                )
            )
            continue
        if title in titles:
            roster.errors.append(
                RowError(
                    "classes.csv",
                    line,
                    "title",
                    f"Another class, on row {titles[title]}, has the title “{title}”: class names "
                    "must differ.",
                )
            )
            continue
        titles[title] = line
        known_classes[sourced_id] = ClassRow("classes.csv", line, sourced_id, sourced_id, title)
    roster.classes = list(known_classes.values())

    pairs: set[tuple[str, str]] = set()
    for line, row in enrolments:
        class_id, user_id = row.get("classSourcedId", ""), row.get("userSourcedId", "")
        if row.get("status", "").lower() == "tobedeleted" or row.get("role", "").lower() in (
            ONEROSTER_SKIPPED_ROLES
        ):
            roster.skipped += 1
            continue
        if class_id in deleted_classes or user_id in skipped_people:
            roster.skipped += 1
            continue
        if class_id not in known_classes:
            roster.errors.append(
                RowError(
                    "enrollments.csv",
                    line,
                    "classSourcedId",
                    f"The class {class_id or '(empty)'} is not in classes.csv.",
                )
            )
            continue
        if user_id not in people:
            roster.errors.append(
                RowError(
                    "enrollments.csv",
                    line,
                    "userSourcedId",
                    f"The person {user_id or '(empty)'} is not in users.csv (or their row has an "
                    "error).",
                )
            )
            continue
        person = people[user_id]
        if person.role != "student" or (class_id, user_id) in pairs:
            continue  # teachers see every class; a repeated pair changes nothing
        pairs.add((class_id, user_id))
        person.class_keys.append(class_id)
    roster.people = list(people.values())
    return roster


def simple_template() -> str:
    """The simple layout's header and two example rows (the page offers it for download)."""
    return (
        ",".join(SIMPLE_COLUMNS) + "\r\n"
        "ada.teacher@example.org,Ada,Lovelace,teacher,\r\n"
        "sam.student@example.org,Sam,Rivera,student,Violin 1;Orchestra\r\n"
    )
