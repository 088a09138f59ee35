"""config.cache_copies: a copy of a cached value is what unpickling its bytes again would give,
and shares nothing mutable with the value it was copied from."""

from __future__ import annotations

import datetime
import enum
import pickle
import uuid
from dataclasses import dataclass

import pytest
from django.utils.safestring import mark_safe

from config.cache_copies import copier
from tenants.chrome import Member
from tenants.models import Membership, Role, Tenant, User


def _tenant() -> Tenant:
    return Tenant(
        pk=7, schema_name="t_7", name="Studio", slug="studio", kind="studio",
        public_id=uuid.uuid4(), created_at=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
    )  # fmt: skip


def _user() -> User:
    user = User(pk=3, email="teacher@example.com", password="pbkdf2_sha256$x")
    user._state.adding, user._state.db = False, "default"
    return user


def _membership() -> Membership:
    membership = Membership(pk=11, role=Role.TEACHER)
    membership.user, membership.tenant = _user(), _tenant()  # related objects in _state
    return membership


@dataclass(frozen=True)
class Frozen:
    items: list
    name: str


def _round_trip(value):
    """What the cache's serializer makes of `value` (pickle, with values this test made)."""
    return pickle.loads(pickle.dumps(value))  # noqa: S301


def _state(value) -> dict:
    """Everything pickle would carry of a value, nested: to compare a copy with an unpickling."""
    if isinstance(value, str | int | float | enum.Enum | uuid.UUID | datetime.datetime):
        return value
    if isinstance(value, dict):
        return {key: _state(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [type(value).__name__, *(_state(item) for item in value)]
    if hasattr(value, "__dict__"):
        attributes = dict(vars(value))
        state = attributes.pop("_state", None)
        described = {"type": type(value), **_state(attributes)}
        if state is not None:
            described["_state"] = {
                "db": state.db, "adding": state.adding, "related": _state(state.fields_cache),
            }  # fmt: skip
        return described
    return value


VALUES = {
    "text": "x" * 100,
    "safe text": mark_safe("<b>kept</b>"),
    "a kept page": (1.5, "<html></html>", {"Cache-Control": "no-cache"}),
    "a session": {"_auth_user_id": "3", "_auth_user_hash": "abc", "seen": [1, 2]},
    "a tenant": _tenant(),
    "a user": _user(),
    "a membership with its user and tenant": _membership(),
    "the page chrome's member": Member(membership=_membership(), has_authenticator=True),
    "a frozen dataclass": Frozen(items=[1, {"a": 2}], name="n"),
}


@pytest.mark.parametrize("name", VALUES)
def test_a_copy_is_what_unpickling_gives(name):
    value = _round_trip(VALUES[name])
    copy = copier(value)
    assert copy is not None
    assert _state(copy(value)) == _state(_round_trip(value))


def test_a_copy_shares_nothing_mutable_with_its_value():
    value = _round_trip(VALUES["the page chrome's member"])
    copy = copier(value)
    first = copy(value)
    first.membership.role = Role.OWNER
    first.membership.user.email = "changed@example.com"
    first.membership.tenant = None  # a related object of its own
    first.__dict__["has_authenticator"] = False

    second = copy(value)
    assert second.membership is not first.membership
    assert second.membership.role == Role.TEACHER
    assert second.membership.user.email == "teacher@example.com"
    assert second.membership.tenant.name == "Studio"
    assert second.has_authenticator is True

    session = {"ids": [1, 2], "nested": {"a": [3]}}
    copy = copier(session)
    changed = copy(session)
    changed["ids"].append(9)
    changed["nested"]["a"].append(9)
    changed["new"] = 1
    assert copy(session) == {"ids": [1, 2], "nested": {"a": [3]}}

    flat = {"_auth_user_id": "3"}
    copy = copier(flat)
    copy(flat)["new"] = 1
    assert copy(flat) == {"_auth_user_id": "3"}
    items = [1, "a"]
    copy = copier(items)
    copy(items).append(9)
    assert copy(items) == [1, "a"]


class OwnPickling:
    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        return OwnPickling, (self.value,)


class Slotted:
    __slots__ = ("value",)


@pytest.mark.parametrize(
    "value",
    [
        OwnPickling(1),
        Slotted(),
        {"buffer": memoryview(b"ab")},
        {frozenset({1}): 1},  # a key pickle would copy but this module does not know
        [[[[["too deep"]]]]],
        {1, 2},
    ],
    ids=["own pickling", "slots", "memoryview", "odd key", "too deep", "a set"],
)
def test_what_cannot_be_copied_is_left_to_pickle(value):
    assert copier(value) is None


def test_a_model_with_anything_it_cannot_copy_is_left_to_pickle():
    tenant = _tenant()
    tenant.__dict__["_prefetched_objects_cache"] = {"domains": Tenant.objects.none()}
    assert copier(tenant) is None
