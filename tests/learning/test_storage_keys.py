"""The storage key guard (learning.storage.keys): every key a request, a row or a token names is
checked to lie inside the current tenant's folder before anything touches it."""

from __future__ import annotations

import pytest

from learning.storage import KeyRefused, check_key, media_prefix, tenant_prefix


def test_keys_live_under_the_tenants_uuid(schools, in_tenant):
    tenant = schools.a.tenant
    with in_tenant(tenant):
        key = f"{media_prefix('m1')}source"

        assert tenant_prefix() == f"tenants/{tenant.public_id}/"
        assert key == f"tenants/{tenant.public_id}/media/m1/source"
        assert check_key(key) == key


def test_a_key_of_school_b_is_refused_for_school_a(schools, in_tenant):
    key_of_b = f"tenants/{schools.b.tenant.public_id}/media/m1/source"
    with in_tenant(schools.a.tenant), pytest.raises(KeyRefused):
        check_key(key_of_b)


@pytest.mark.parametrize(
    "make_key",
    [
        lambda a, b: f"tenants/{a}/../{b}/videos/reply.mp4",
        lambda a, b: f"tenants/{a}/videos/../../{b}/reply.mp4",
        lambda a, b: f"/tenants/{a}/videos/reply.mp4",
        lambda a, b: f"tenants/{a}//videos/reply.mp4",
        lambda a, b: f"tenants/{a}/./videos/reply.mp4",
        lambda a, b: f"tenants/{a}\\..\\{b}\\reply.mp4",
        lambda a, b: f"tenants/{a}",
        lambda a, b: f"tenants/{a}-not-really/videos/reply.mp4",
        lambda a, b: f"videos/tenants/{a}/reply.mp4",
        lambda a, b: f"tenants/{a}/videos/..",
    ],
)
def test_keys_that_only_look_like_school_as_are_refused(make_key, schools, in_tenant):
    key = make_key(schools.a.tenant.public_id, schools.b.tenant.public_id)
    with in_tenant(schools.a.tenant), pytest.raises(KeyRefused):
        check_key(key)


def test_no_key_is_accepted_outside_a_tenant(schools, db):
    with pytest.raises(KeyRefused):
        check_key(f"tenants/{schools.a.tenant.public_id}/media/m1/source")
