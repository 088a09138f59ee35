"""A new tenant's schema is an exact, fully migrated copy of the template — or nothing at all,
whether it is cloned there and then or a spare schema renamed into place (tenants.schema_pool).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from tenants import clone, schema_pool, services
from tenants.models import Domain, Membership, SpareSchema, Tenant, User

# Exercises what Django's migrations produce and a little more: a serial column with its own
# sequence, identity columns, a generated column, a self reference, a foreign-key cycle, a
# foreign key into public, a partial expression index, a check constraint, a comment, rows.
PROBE_DDL = """
CREATE TABLE {s}.clone_probe_a (
    id serial PRIMARY KEY,
    code text NOT NULL UNIQUE,
    n integer NOT NULL CONSTRAINT clone_probe_a_n_positive CHECK (n > 0),
    doubled integer GENERATED ALWAYS AS (n * 2) STORED,
    parent_id integer REFERENCES {s}.clone_probe_a (id),
    b_id bigint,
    user_id bigint REFERENCES public.tenants_user (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE {s}.clone_probe_b (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    a_id integer REFERENCES {s}.clone_probe_a (id) DEFERRABLE INITIALLY DEFERRED
);
ALTER TABLE {s}.clone_probe_a ADD CONSTRAINT clone_probe_a_b_fk
    FOREIGN KEY (b_id) REFERENCES {s}.clone_probe_b (id) DEFERRABLE INITIALLY DEFERRED;
CREATE UNIQUE INDEX clone_probe_a_code_lower ON {s}.clone_probe_a (lower(code)) WHERE n > 1;
COMMENT ON TABLE {s}.clone_probe_a IS 'probe';
INSERT INTO {s}.clone_probe_a (code, n) VALUES ('first', 1), ('second', 2);
"""


def _structure(schema: str) -> dict[str, set]:
    """The schema's objects as comparable sets, with the schema's own name written as `S`."""
    queries = {
        "tables": "SELECT relname FROM pg_class WHERE relnamespace = %(s)s::regnamespace "
        "AND relkind = 'r'",
        "columns": "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
        "a.attnotnull, a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'r' AND a.attnum > 0 "
        "AND NOT a.attisdropped",
        # A CHECK's expression is compared by name: PostgreSQL re-parses `x = ANY (ARRAY[…])`
        # into an equivalent but differently printed form (pg_dump's copies do the same).
        "constraints": "SELECT c.relname, con.conname, con.contype, CASE con.contype "
        "WHEN 'c' THEN '' ELSE pg_get_constraintdef(con.oid) END "
        "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
        "WHERE c.relnamespace = %(s)s::regnamespace",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s",
        "sequences": "SELECT relname FROM pg_class WHERE relnamespace = %(s)s::regnamespace "
        "AND relkind = 'S'",
        "comments": "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
        "WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'r'",
    }
    structure = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql, {"s": schema})
            structure[name] = {
                tuple(
                    str(value).replace(f"{schema}.", "S.").replace(f'"{schema}".', "S.")
                    for value in row
                )
                for row in cursor.fetchall()
            }
    return structure


def _rows(schema: str, table: str, order: str = "id") -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY {order}')  # noqa: S608
        return cursor.fetchall()


def _next_value(schema: str, sequence: str) -> int:
    """The value `nextval` would give next, read without moving the sequence."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT last_value, is_called FROM "{schema}"."{sequence}"'  # noqa: S608
        )
        last_value, is_called = cursor.fetchone()
    return last_value + 1 if is_called else last_value


def _schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", [schema]
        )
        return cursor.fetchone()[0] == 1


def _clone_with_probe_tables(schema: str) -> None:
    template = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(PROBE_DDL.format(s=f'"{template}"'))
    clone.clone_template_schema(schema)


def _assert_exact_copy(schema: str) -> None:
    template = settings.TENANT_BASE_SCHEMA
    copy, original = _structure(schema), _structure(template)
    assert copy["tables"] >= {("django_migrations",), ("clone_probe_a",), ("clone_probe_b",)}
    for kind in original:
        assert copy[kind] == original[kind], kind
    assert _rows(schema, "django_migrations") == _rows(template, "django_migrations")
    assert _rows(schema, "clone_probe_a") == _rows(template, "clone_probe_a")

    with connection.cursor() as cursor:
        # Sequences continue from the template's values: serial, identity and Django's ids.
        cursor.execute(
            f'INSERT INTO "{schema}".clone_probe_a (code, n) VALUES (%s, 3) RETURNING id, doubled',  # noqa: S608
            ["third"],
        )
        assert cursor.fetchone() == (3, 6)
        cursor.execute(f'INSERT INTO "{schema}".clone_probe_b DEFAULT VALUES RETURNING id')  # noqa: S608
        assert cursor.fetchone() == (1,)
        cursor.execute(
            f'INSERT INTO "{schema}".django_migrations (app, name, applied) '  # noqa: S608
            "VALUES ('probe', '0001', now()) RETURNING id"
        )
        # The template's sequence, not its rows, says where ids go on: rows inserted and
        # rolled back elsewhere (migrations tried in tests) move it past the last row's id.
        assert cursor.fetchone()[0] == _next_value(template, "django_migrations_id_seq")
        # The clone's constraints are its own, not the template's.
        cursor.execute(f'INSERT INTO "{schema}".clone_probe_b (a_id) VALUES (3)')  # noqa: S608
        with pytest.raises(IntegrityError, match="clone_probe_a_code_key"), transaction.atomic():
            cursor.execute(
                f"INSERT INTO \"{schema}\".clone_probe_a (code, n) VALUES ('first', 1)"  # noqa: S608
            )


@pytest.mark.django_db
def test_clone_is_an_exact_copy_of_the_template_with_working_sequences(schools):
    _clone_with_probe_tables("clone_probe_copy")
    _assert_exact_copy("clone_probe_copy")


@pytest.mark.services
@pytest.mark.django_db
def test_clone_is_an_exact_copy_on_the_real_server(schools):
    _clone_with_probe_tables("clone_probe_copy")
    _assert_exact_copy("clone_probe_copy")


@pytest.mark.django_db
def test_a_changed_template_is_read_again(schools):
    template = settings.TENANT_BASE_SCHEMA
    clone.clone_template_schema("clone_probe_before")
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{template}".django_migrations ADD COLUMN probe integer')
    clone.clone_template_schema("clone_probe_after")
    columns = {row[1] for row in _structure("clone_probe_after")["columns"]}
    assert "probe" in columns
    assert "probe" not in {row[1] for row in _structure("clone_probe_before")["columns"]}


@pytest.mark.django_db
def test_a_template_with_a_view_falls_back_to_clone_schema(schools):
    template = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(
            f'CREATE VIEW "{template}".clone_probe_view AS SELECT app FROM '  # noqa: S608
            f'"{template}".django_migrations'
        )
    clone.clone_template_schema("clone_probe_view_copy")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = %s",
            ["clone_probe_view_copy"],
        )
        assert cursor.fetchall() == [("clone_probe_view",)]


def _failing_create(**kwargs):
    raise RuntimeError("membership store is down")


@pytest.mark.django_db
def test_a_failure_after_the_clone_leaves_no_schema_no_tenant_and_no_domain(
    schools, monkeypatch
):
    SpareSchema.objects.all().delete()  # no spare: the sign-up clones (rolled back after)
    owner = User.objects.create_user(email="all-or-nothing@example.com", password=None)
    cloned: list[str] = []
    real_clone = clone.clone_template_schema

    def recording_clone(schema_name: str) -> str:
        version = real_clone(schema_name)
        cloned.append(schema_name)
        assert _schema_exists(schema_name)  # the schema was really there mid-creation
        return version

    monkeypatch.setattr(clone, "clone_template_schema", recording_clone)
    monkeypatch.setattr(Membership.objects, "create", _failing_create)

    with pytest.raises(RuntimeError, match="membership store is down"):
        services.tenant_create(
            name="Half Made", slug="half-made", kind="school", owner=owner
        )

    assert len(cloned) == 1
    assert not _schema_exists(cloned[0])
    assert not Tenant.objects.filter(slug="half-made").exists()
    assert not Tenant.objects.filter(schema_name=cloned[0]).exists()
    assert not Domain.objects.filter(domain__startswith="half-made.").exists()


@pytest.mark.django_db
def test_a_spare_renamed_into_place_is_an_exact_copy_with_working_sequences(schools):
    template = settings.TENANT_BASE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(PROBE_DDL.format(s=f'"{template}"'))
    SpareSchema.objects.all().delete()
    assert schema_pool.spares_refill(size=1).created == 1
    spare = SpareSchema.objects.get().schema_name
    owner = User.objects.create_user(email="renamed@example.com", password=None)

    tenant = services.tenant_create(name="Renamed", slug="renamed", kind="studio", owner=owner)

    assert not _schema_exists(spare)
    assert not SpareSchema.objects.exists()
    # Defaults still find their sequences, foreign keys their tables, after the rename.
    _assert_exact_copy(tenant.schema_name)


@pytest.mark.django_db
def test_a_failure_after_the_rename_leaves_no_tenant_and_the_spare_a_spare(schools, monkeypatch):
    SpareSchema.objects.all().delete()
    schema_pool.spares_refill(size=1)
    spare = SpareSchema.objects.get()
    owner = User.objects.create_user(email="all-or-nothing@example.com", password=None)
    renamed_to: list[str] = []
    real_provide = schema_pool.schema_provide

    def recording_provide(schema_name: str) -> None:
        real_provide(schema_name)
        renamed_to.append(schema_name)
        # Mid-creation the spare really was renamed and claimed.
        assert _schema_exists(schema_name) and not _schema_exists(spare.schema_name)
        assert not SpareSchema.objects.filter(pk=spare.pk).exists()

    monkeypatch.setattr(schema_pool, "schema_provide", recording_provide)
    monkeypatch.setattr(Membership.objects, "create", _failing_create)

    with pytest.raises(RuntimeError, match="membership store is down"):
        services.tenant_create(name="Half Made", slug="half-made", kind="school", owner=owner)

    assert len(renamed_to) == 1
    assert not _schema_exists(renamed_to[0])
    assert _schema_exists(spare.schema_name)
    assert SpareSchema.objects.get(pk=spare.pk) == spare  # the next sign-up can take it
    assert not Tenant.objects.filter(slug="half-made").exists()
    assert not Domain.objects.filter(domain__startswith="half-made.").exists()
