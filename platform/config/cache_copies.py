"""Independent copies of a value read from the cache, made without unpickling it again.

The near cache (config.redis_cache) hands each read its own object, so that no two requests
share a mutable one. Unpickling the same bytes on every read did that, but a model instance
costs 7 to 9 µs to unpickle (a tenant, a user, a membership: every member page reads all three),
and these were the largest part of a kept page's CPU after its HTML (docs/scaling.md). So the
first read unpickles, and `copier(value)` says how to copy that result for each later read:

- immutable values (text, numbers, UUIDs, dates and times, None) and the members of enums
  (model choices) are shared as they are;
- tuples, lists and dicts are copied, with their items copied the same way;
- a model instance gets a new instance with a copy of its attributes and of its state
  (`_state`, with its cache of related objects copied too), which is what Django's
  `Model.__getstate__` and `__setstate__` make of it through pickle;
- an object pickle copies by its `__dict__` (a dataclass, for one) gets a new instance of its
  class with a copy of its `__dict__`.

Anything else (a queryset, a file, a memoryview, a class of its own pickling, a structure
deeper than MAX_DEPTH) has no copier: it is unpickled on every read as before. A copier is made
for one value and is only ever called with that value (it knows its shape and keeps parts of
it); the value itself is never handed out.

Written by hand: `copy.deepcopy` takes 33 µs for a tenant (four times unpickling it), and
`copy.copy` shares the attributes' mutable values between the copies.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Callable
from typing import Any

from django.db.models import Model
from django.db.models.base import ModelState
from django.utils.safestring import SafeString

Copier = Callable[[Any], Any]
MAX_DEPTH = 4

# Types whose instances cannot change: a copy may be the value itself.
IMMUTABLE = frozenset(
    {
        str, SafeString, bytes, int, float, complex, bool, type(None), uuid.UUID, decimal.Decimal,
        datetime.datetime, datetime.date, datetime.time, datetime.timedelta,
    }
)  # fmt: skip


def _same(value):
    return value


def copier(value: Any, depth: int = 0) -> Copier | None:
    """How to copy `value` (a function of it), or None when it must be unpickled instead."""
    kind = type(value)
    if kind in IMMUTABLE or isinstance(value, enum.Enum):  # unpickling gives the same member
        return _same
    if depth >= MAX_DEPTH:
        return None
    if kind is tuple or kind is list:
        return _sequence_copier(value, depth)
    if kind is dict:
        return _dict_copier(value, depth)
    if isinstance(value, Model):
        return _model_copier(value, depth)
    return _object_copier(value, depth)


def _all(values, depth: int) -> list[Copier] | None:
    copiers = [copier(item, depth + 1) for item in values]
    return None if None in copiers else copiers


def _sequence_copier(value, depth: int) -> Copier | None:
    copiers = _all(value, depth)
    if copiers is None:
        return None
    kind = type(value)
    if all(c is _same for c in copiers):
        return _same if kind is tuple else list.copy
    return lambda items: kind(c(item) for c, item in zip(copiers, items, strict=True))


def _dict_copier(value: dict, depth: int) -> Copier | None:
    if any(type(key) not in IMMUTABLE for key in value):
        return None
    copiers = _all(value.values(), depth)
    if copiers is None:
        return None
    if all(c is _same for c in copiers):
        return dict.copy
    by_key = dict(zip(value, copiers, strict=True))
    return lambda items: {key: by_key[key](item) for key, item in items.items()}


def _model_copier(value: Model, depth: int) -> Copier | None:
    kind = type(value)
    if (kind.__reduce__, kind.__getstate__, kind.__setstate__) != (
        Model.__reduce__, Model.__getstate__, Model.__setstate__
    ):  # fmt: skip
        return None  # pickled its own way: copied its own way
    attributes = {key: item for key, item in value.__dict__.items() if key != "_state"}
    attribute_copier = _dict_copier(attributes, depth)
    state = value._state.__dict__
    if attribute_copier is None or set(state) - {"db", "adding", "fields_cache"}:
        return None
    related_copier = _dict_copier(state.get("fields_cache", {}), depth)
    if related_copier is None:
        return None

    def copy(instance: Model) -> Model:
        new = kind.__new__(kind)
        new.__dict__.update(attribute_copier(attributes))
        new._state = ModelState()
        new._state.db, new._state.adding = state.get("db"), state.get("adding", True)
        new._state.fields_cache = related_copier(state.get("fields_cache", {}))
        return new

    return copy


def _object_copier(value: Any, depth: int) -> Copier | None:
    kind = type(value)
    plain = (
        kind.__reduce_ex__ is object.__reduce_ex__
        and kind.__reduce__ is object.__reduce__
        and kind.__getstate__ is object.__getstate__
        and not hasattr(kind, "__setstate__")
        and not hasattr(kind, "__slots__")
        and kind.__new__ is object.__new__
        and isinstance(getattr(value, "__dict__", None), dict)
    )
    if not plain:
        return None
    attribute_copier = _dict_copier(value.__dict__, depth)
    if attribute_copier is None:
        return None

    def copy(instance):
        new = object.__new__(kind)
        new.__dict__.update(attribute_copier(instance.__dict__))
        return new

    return copy
