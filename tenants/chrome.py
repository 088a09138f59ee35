"""What every page on a tenant's host needs before its view runs, read from the cache.

- the host → tenant lookup (`tenant_for_host`), done by `TenantRoutingMiddleware` on every
  request, cached per host name;
- the page chrome of the signed-in member (`PageChrome`): their membership and whether they
  have a second factor (tenants), and the parts other apps register in
  settings.PRACTIKA_PAGE_CHROME_PARTS (the bell, the billing banner). The membership is read
  before the view; the parts when a page first asks for one, all in one `cache.get_many` (one
  Redis round trip), so that a kept page reads none; a part that is missing is computed from
  the database when a page first asks for it, and stored.

Every cached copy is dropped when its rows change (`forget_*`), at once and again when the
transaction commits, so that a request that read the old row just before the commit cannot
store it back for long; the time-to-live bounds any such race. A suspension, a removed member or
a changed role therefore takes effect on the very next request, in every process: the cache is
the shared one (Redis in production), never a per-process copy. When the cache is flushed or
unreachable for a read, everything is read from the database again.

The keys name the tenant's id themselves and live in the public key space (config.cache_keys):
they are read while routing, before the tenant's schema is selected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.module_loading import import_string

from tenants.models import Domain, Membership, Tenant, User

PREFIX = "page-chrome:"
TTL_SECONDS = 300
_NO_TENANT = "no-tenant"


# --- Host → tenant --------------------------------------------------------------------------


def _host_key(hostname: str) -> str:
    return f"{PREFIX}host:{hostname}"


def tenant_for_host(hostname: str) -> Tenant | None:
    key = _host_key(hostname)
    cached = cache.get(key)
    if isinstance(cached, Tenant):
        return cached
    if cached == _NO_TENANT:
        return None
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    tenant = domain.tenant if domain is not None else None
    cache.set(key, tenant if tenant is not None else _NO_TENANT, TTL_SECONDS)
    return tenant


def forget_hosts(hostnames: list[str]) -> None:
    _forget([_host_key(name) for name in hostnames])


def forget_tenant(tenant: Tenant) -> None:
    """Drop the cached copies of `tenant` (every host name that routes to it)."""
    if tenant.pk is None:
        return
    hosts = Domain.objects.filter(tenant=tenant).values_list("domain", flat=True)
    _forget([*(_host_key(name) for name in hosts), _tenant_generation_key(tenant.pk)])


def forget_tenant_pages(tenant_id: int) -> None:
    """Every member's kept pages of the tenant are stale (its row or a tenant-wide part)."""
    _forget([_tenant_generation_key(tenant_id)])


# --- The signed-in user ---------------------------------------------------------------------


def _user_key(user_id) -> str:
    return f"{PREFIX}user:{user_id}"


def user_for_session(request) -> Any:
    """`request.user`, as django.contrib.auth.get_user finds it, with the user's row read from
    the cache (the one statement every member page still ran).

    The cached copy is used only when the session names it, with a backend still configured
    and a session hash that matches the copy's password exactly; anything else (no copy, a
    hash signed with a fallback key, a changed password) goes through Django's own get_user,
    which flushes or rotates the session as it decides, and an authenticated result is stored
    for the next request. Dropped on every save or delete of the user (User.save)."""
    from django.contrib import auth
    from django.utils.crypto import constant_time_compare

    session = request.session
    user_id = session.get(auth.SESSION_KEY)
    backend = session.get(auth.BACKEND_SESSION_KEY)
    session_hash = session.get(auth.HASH_SESSION_KEY)
    if user_id is None or backend not in settings.AUTHENTICATION_BACKENDS or not session_hash:
        return auth.get_user(request)
    key = _user_key(user_id)
    user = cache.get(key)
    if (
        isinstance(user, User)
        and str(user.pk) == str(user_id)
        and user.is_active
        and constant_time_compare(session_hash, user.get_session_auth_hash())
    ):
        return user
    user = auth.get_user(request)
    if user.is_authenticated:
        cache.set(key, user, TTL_SECONDS)
    return user


def forget_session_user(user_id) -> None:
    if user_id is not None:
        _forget([_user_key(user_id), _user_generation_key(user_id)])


# --- Generations of what a page shows (tenants.page_cache) ----------------------------------


def _tenant_generation_key(tenant_id) -> str:
    return f"{PREFIX}gen:tenant:{tenant_id}"


def _member_generation_key(tenant_id, user_id) -> str:
    return f"{PREFIX}gen:member:{tenant_id}:{user_id}"


def _user_generation_key(user_id) -> str:
    return f"{PREFIX}gen:user:{user_id}"


def page_generations(
    *, tenant_id: int | None, user_id: int | None = None, also: tuple[str, ...] = ()
) -> list[str]:
    """The current generations of the tenant's chrome, the member's and the user's (none for a
    visitor), and of the `also` keys (versions kept the same way), in one cache read. A
    generation is a random token, made when missing; dropping it (the `forget_*` functions)
    starts a new one."""
    keys = [
        _tenant_generation_key(tenant_id),
        *(
            (_member_generation_key(tenant_id, user_id), _user_generation_key(user_id))
            if user_id is not None
            else ()
        ),
        *also,
    ]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, uuid.uuid4().hex, timeout=None)
            found[key] = cache.get(key) or uuid.uuid4().hex
    return [found[key] for key in keys]


# --- Page chrome ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """The tenants part of the chrome: `membership` is None for a signed-in non-member."""

    membership: Membership | None
    has_authenticator: bool


def _member_key(tenant_id: int, user_id: int) -> str:
    return f"{PREFIX}member:{tenant_id}:{user_id}"


def part_key(name: str, tenant_id: int, user_id: int | None = None) -> str:
    """The key of a registered part: per member, or per tenant when `user_id` is None."""
    return f"{PREFIX}{name}:{tenant_id}" + ("" if user_id is None else f":{user_id}")


def _parts() -> dict[str, Any]:
    return {
        name: import_string(path)
        for name, path in getattr(settings, "PRACTIKA_PAGE_CHROME_PARTS", {}).items()
    }


class PageChrome:
    """The chrome of one request (`request.page_chrome`), for `user` on `tenant`."""

    def __init__(self, *, tenant: Tenant, user: User):
        from tenants.mfa import policy

        self.tenant, self.user = tenant, user
        self._member_key = _member_key(tenant.pk, user.pk)
        member = cache.get(self._member_key)
        if not isinstance(member, Member):
            member = self._load_member(has_authenticator=policy.has_authenticator(user=user))
        self._use(member)
        self._found = None  # the parts, read when a page first asks for one

    def _read_parts(self) -> dict[str, Any]:
        """Every registered part of this request, in one cache read: a kept page
        (tenants.page_cache) shows none, and reads none."""
        self._parts = _parts()
        self._keys = {
            name: part_key(name, self.tenant.pk, self.user.pk if part.per_member else None)
            for name, part in self._parts.items()
        }
        found = cache.get_many(list(self._keys.values()))
        return {name: found[key] for name, key in self._keys.items() if key in found}

    def _load_member(self, *, has_authenticator: bool) -> Member:
        membership = Membership.objects.filter(user=self.user, tenant=self.tenant).first()
        member = Member(membership=membership, has_authenticator=has_authenticator)
        cache.set(self._member_key, member, TTL_SECONDS)
        return member

    def _use(self, member: Member) -> None:
        if member.membership is not None:
            # The cached copy shares the request's objects instead of loading them again.
            member.membership.user, member.membership.tenant = self.user, self.tenant
        self.member = member

    def reload_member(self) -> None:
        """Read the membership again and store it (after this request recorded activity)."""
        self._use(self._load_member(has_authenticator=self.member.has_authenticator))

    @property
    def membership(self) -> Membership | None:
        return self.member.membership

    def part(self, name: str, request) -> Any:
        """A registered part's value, computed (and stored) the first time it is missing."""
        if self._found is None:
            self._found = self._read_parts()
        if name not in self._found:
            self._found[name] = self._parts[name].load(request)
            cache.set(self._keys[name], self._found[name], TTL_SECONDS)
        return self._found[name]


def forget_member(*, tenant_id: int, user_id: int) -> None:
    _forget([_member_key(tenant_id, user_id), _member_generation_key(tenant_id, user_id)])


def forget_user(user: User) -> None:
    """Drop `user`'s member chrome on every tenant (their second factors changed)."""
    tenant_ids = Membership.objects.filter(user=user).values_list("tenant_id", flat=True)
    _forget(
        [
            _user_generation_key(user.pk),
            *(_member_key(tenant_id, user.pk) for tenant_id in tenant_ids),
            *(_member_generation_key(tenant_id, user.pk) for tenant_id in tenant_ids),
        ]
    )


def forget_user_on_authenticator_change(sender, *, user, **kwargs):
    """allauth's authenticator_added / _removed / _reset."""
    forget_user(user)


def forget_part(name: str, *, tenant_id: int, user_ids: list[int] | None = None) -> None:
    if user_ids is None:
        _forget([part_key(name, tenant_id), _tenant_generation_key(tenant_id)])
    else:
        _forget(
            [
                *(part_key(name, tenant_id, user_id) for user_id in user_ids),
                *(_member_generation_key(tenant_id, user_id) for user_id in user_ids),
            ]
        )


def _forget(keys: list[str]) -> None:
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))
