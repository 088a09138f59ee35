"""What the selectors share about building queries."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def unique_or_none(queryset: QuerySet[M]) -> M | None:
    """The row of a queryset filtered on a unique key, or None: `.first()` without its ORDER BY.

    Ordering a result of one row sorts nothing, and Django compiles an ORDER BY by hashing every
    selected column's expression: with the four tables the compare page joins, that was a
    seventh of its CPU (docs/scaling.md)."""
    rows = list(queryset.order_by()[:1])
    return rows[0] if rows else None
