"""Spare schemas, cloned from the template ahead of time, so that a sign-up need not wait for
a clone (about 0.1 s for a 30-table template, growing with every table the apps add).

A new tenant's schema comes from `schema_provide`, inside the sign-up's transaction: it takes
one spare of the template's current migrations (`SELECT … FOR UPDATE SKIP LOCKED`, so concurrent
sign-ups take distinct spares and never wait for each other) and renames it into place with
`ALTER SCHEMA … RENAME TO`, which is transactional in PostgreSQL. If anything later in the
sign-up fails, the rename and the spare's row are rolled back with it and the spare stays a
spare. With no spare left it clones the template there and then, as before: slower, never
wrong. `schema_reserve`, called first in the sign-up's transaction, makes concurrent sign-ups
that must clone queue up instead of deadlocking on the users table.

A renamed schema keeps working because everything inside it refers to everything else by
OID (column defaults' sequences, foreign keys, indexes, identity columns); only text would
keep the old name, and the generated clone writes none. Templates that need CloneSchema
(functions, whose bodies name their schema as text) get no spares.

A spare is tagged with what it was copied from (tenants.clone): the migrations recorded in
the template, and the template's full version (any DDL on it changes that too). A sign-up
takes only a spare of the template's current migrations, so a spare made before a migration
is never served, however the migration was applied (`migrate_tenants`, `migrate_template`,
`migrate_schemas`). The full version is not checked there: it scans the catalog, which grows
with every tenant, and a sign-up should cost the same with ten tenants or ten thousand.
`spares_refill` checks it instead and drops every spare that is stale either way, then
clones fresh ones. It runs as a Celery task (`tenants.spare_schemas_refill`) after every
tenant creation commits, every few minutes from beat, and at the end of `migrate_tenants`.
So a template changed by hand, without a migration (which leaves every existing tenant behind
too), has its old spares dropped by the next refill.

A spare is not a tenant: it has no Tenant row and no Domain, so no host routes to it, no
tenant listing shows it, and `migrate_tenants` / `migrate_schemas` do not visit it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name

from tenants import clone
from tenants.models import SpareSchema

logger = logging.getLogger(__name__)

SPARE_PREFIX = "spare_"
# pg_advisory_xact_lock key: refills take turns, one spare each, so none overfills the pool.
_REFILL_LOCK = 0x7072616B_73706172  # "prak" "spar"

_TABLE = SpareSchema._meta.db_table

# The oldest spare of the template's current migrations whose schema is there, taken for
# this transaction. One round trip.
_TAKE_SQL = f"""
DELETE FROM {_TABLE} WHERE id = (
    SELECT s.id FROM {_TABLE} s
     WHERE s.template_migrations = ({{migrations}})
       AND EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = s.schema_name)
     ORDER BY s.id LIMIT 1 FOR UPDATE SKIP LOCKED
) RETURNING schema_name
"""  # noqa: S608 (a table name from the model)

# The same spare, only locked: a spare this transaction already holds is not skipped.
_RESERVE_SQL = f"""
SELECT s.id FROM {_TABLE} s
 WHERE s.template_migrations = ({{migrations}})
   AND EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = s.schema_name)
 ORDER BY s.id LIMIT 1 FOR UPDATE SKIP LOCKED
"""  # noqa: S608 (a table name from the model)

# The tables outside the template that its foreign keys point at (public users).
_REFERENCED_SQL = """
SELECT DISTINCT format('%%I.%%I', n.nspname, r.relname)
  FROM pg_constraint con
  JOIN pg_class r ON r.oid = con.confrelid
  JOIN pg_namespace n ON n.oid = r.relnamespace
 WHERE con.contype = 'f' AND con.connamespace = %(schema)s::regnamespace
   AND r.relnamespace <> con.connamespace
"""

_STALE_SQL = f"""
DELETE FROM {_TABLE} WHERE id IN (
    SELECT s.id FROM {_TABLE} s
     WHERE s.template_version <> %(version)s
        OR NOT EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = s.schema_name)
       FOR UPDATE SKIP LOCKED
) RETURNING schema_name
"""  # noqa: S608 (a table name from the model)


def _to_public() -> None:
    # Only if needed: switching, even to the same schema, costs a `SET search_path` round trip
    # on the next query.
    if connection.schema_name != get_public_schema_name():
        connection.set_schema_to_public()


@dataclass(frozen=True)
class Refill:
    discarded: int
    created: int


def schema_reserve() -> None:
    """Make sure this transaction will get a schema without a deadlock; call it before the
    transaction writes to public tables (before creating the owner's account).

    It holds a spare for the transaction; with none free, it takes at once the lock a clone
    takes on the public tables the template's foreign keys point at (SHARE ROW EXCLUSIVE on
    users). Without it, two sign-ups that each inserted their user and then clone wait for
    each other's user row lock, and PostgreSQL aborts all but one of them.
    """
    _to_public()
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE_SQL.replace("{migrations}", clone.migrations_sql()))
        if cursor.fetchone() is not None:
            return
        cursor.execute(_REFERENCED_SQL, {"schema": settings.TENANT_BASE_SCHEMA})
        tables = [table for (table,) in cursor.fetchall()]
        if tables:
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")


def schema_provide(schema_name: str) -> None:
    """Create `schema_name`, fully migrated, inside the caller's transaction: a spare renamed
    into place, or a fresh clone when no up-to-date spare is left."""
    spare = spare_take()
    if spare is None:
        clone.clone_template_schema(schema_name)
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER SCHEMA {quote(spare)} RENAME TO {quote(schema_name)}")


def spare_take() -> str | None:
    """Claim an up-to-date spare for the caller's transaction (its row is deleted, and comes
    back if the transaction rolls back); None if there is none."""
    _to_public()
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_SQL.replace("{migrations}", clone.migrations_sql()))
        row = cursor.fetchone()
    return row[0] if row else None


def spares_discard_stale() -> int:
    """Drop the spares of an older template version (or whose schema is gone)."""
    _to_public()
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STALE_SQL, {"version": clone.template_version()})
        names = [name for (name,) in cursor.fetchall()]
        for name in names:
            cursor.execute(f"DROP SCHEMA IF EXISTS {quote(name)} CASCADE")
    return len(names)


def spares_refill(*, size: int | None = None) -> Refill:
    """Discard stale spares, then clone new ones until `size` (default: the
    TENANT_SPARE_SCHEMAS setting) up-to-date spares wait. Safe to run any number of times
    and concurrently: refills take turns, one spare at a time, and count before each."""
    size = settings.TENANT_SPARE_SCHEMAS if size is None else size
    discarded = spares_discard_stale()
    created = 0
    if size > 0 and not clone.template_is_generated():
        logger.warning(
            "The template needs CloneSchema, whose copies cannot be renamed: no spare schemas."
        )
        return Refill(discarded=discarded, created=0)
    # At most `size` per run, each in its own transaction so a sign-up can take it at once;
    # spares taken meanwhile are made up by the refill those sign-ups queue.
    for _ in range(size):
        if not _spare_create(size=size):
            break
        created += 1
    return Refill(discarded=discarded, created=created)


def _spare_create(*, size: int) -> bool:
    with transaction.atomic(), connection.cursor() as cursor:
        # Waits rather than giving up: a refill queued while another runs must still make
        # up for the spares taken meanwhile.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_REFILL_LOCK])
        version = clone.template_version()
        if SpareSchema.objects.filter(template_version=version).count() >= size:
            return False
        migrations = clone.template_migrations()
        name = f"{SPARE_PREFIX}{uuid.uuid4().hex}"
        copied = clone.clone_template_schema(name)
        # A migration committed while the clone ran: this copy may mix both versions.
        if copied != version or clone.template_version() != version:
            transaction.set_rollback(True)
            return False
        SpareSchema.objects.create(
            schema_name=name, template_migrations=migrations, template_version=version
        )
    return True
