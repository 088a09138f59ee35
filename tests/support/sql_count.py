"""Count the SQL statements a block of code sends to PostgreSQL, `SET search_path` included.

    with count_statements() as statements:
        client.get(url)
    assert len(statements) <= 6, statements

django-tenants issues `SET search_path` on the raw psycopg cursor, below Django's cursor
wrapper, so `CaptureQueriesContext` never sees it. This helper counts one level lower: it
wraps `execute` and `executemany` of psycopg's cursor class, which every connection Django
opens (its own `Cursor` subclasses, django-tenants' throwaway cursors, connections opened
during the block) goes through. Savepoint statements are left out: they come from the test's
own wrapping transaction, and in production the same `atomic()` blocks run as BEGIN/COMMIT,
which psycopg sends without a cursor.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

_TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
_lock = threading.Lock()


def _text(query) -> str:
    if isinstance(query, bytes):
        return query.decode()
    if isinstance(query, str):
        return query
    return query.as_string(None)  # psycopg.sql.Composable


@contextmanager
def count_statements() -> Iterator[list[str]]:
    """Yield a list that fills with the SQL text of each statement run inside the block."""
    statements: list[str] = []
    with _lock:
        execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

        def counting_execute(cursor, query, *args, **kwargs):
            _record(statements, query)
            return execute(cursor, query, *args, **kwargs)

        def counting_executemany(cursor, query, *args, **kwargs):
            _record(statements, query)
            return executemany(cursor, query, *args, **kwargs)

        psycopg.Cursor.execute = counting_execute
        psycopg.Cursor.executemany = counting_executemany
    try:
        yield statements
    finally:
        with _lock:
            psycopg.Cursor.execute, psycopg.Cursor.executemany = execute, executemany


def _record(statements: list[str], query) -> None:
    text = _text(query).strip()
    if not text.upper().startswith(_TRANSACTION_CONTROL):
        statements.append(text)
