"""config.redis_cache.NearCache: a process's copies of cache replies are dropped the moment
another client changes the key, against a real Redis (REDIS_URL). Two `RedisCache` objects
stand for two web processes: each has its own copies and its own tracking connection."""

from __future__ import annotations

import os
import time
import uuid

import pytest
import redis

from config.redis_cache import NearCache, RedisCache, near_cache_for

pytestmark = pytest.mark.services


@pytest.fixture
def prefix():
    return f"t-{uuid.uuid4().hex}"


def _cache(prefix: str, **near) -> RedisCache:
    """A cache as one process has it: copies of its own (a process shares them between its
    threads, so two processes need two sets)."""
    cache = RedisCache(
        os.environ["REDIS_URL"], {"KEY_PREFIX": prefix, "OPTIONS": {"near_cache": True}}
    )
    cache._cache.near = NearCache(os.environ["REDIS_URL"], **near)
    return cache


def _served_from_copy(cache: RedisCache, key: str) -> bool:
    found, pending = cache._cache.near.lookup([cache.make_key(key)]) or ({}, {})
    cache._cache.near.keep(pending, {})
    return bool(found)


def test_a_write_elsewhere_is_seen_on_the_next_read(prefix):
    here, elsewhere = _cache(prefix), _cache(prefix)
    try:
        here.set("tenant", {"suspended": False}, 60)
        assert here.get("tenant") == {"suspended": False}
        assert here.get("tenant") == {"suspended": False}
        assert _served_from_copy(here, "tenant")  # no round trip any more

        elsewhere.set("tenant", {"suspended": True}, 60)
        assert here.get("tenant") == {"suspended": True}
        elsewhere.delete("tenant")
        assert here.get("tenant") is None
        elsewhere.set_many({"a": 1, "b": [2]}, 60)
        assert here.get_many(["a", "b", "c"]) == {"a": 1, "b": [2]}
        elsewhere.delete_many(["a"])
        assert here.get_many(["a", "b"]) == {"b": [2]}
        assert elsewhere.add("n", 1, 60)
        assert here.get("n") == 1
        elsewhere.incr("n", 5)
        assert here.get("n") == 6
    finally:
        here.clear()


def test_each_read_of_a_copy_gets_an_object_of_its_own_unpickled_once(prefix, monkeypatch):
    here, elsewhere = _cache(prefix), _cache(prefix)
    unpickled = []
    loads = here._cache._serializer.loads
    monkeypatch.setattr(
        here._cache._serializer, "loads", lambda data: unpickled.append(data) or loads(data)
    )
    try:
        here.set("session", {"ids": [1, 2]}, 60)
        first = here.get("session")
        first["ids"].append(3)  # a request changing what it read
        assert here.get("session") == {"ids": [1, 2]}
        assert here.get_many(["session"]) == {"session": {"ids": [1, 2]}}
        assert len(unpickled) == 1  # the copies after the first read were made without pickle

        elsewhere.set("session", {"ids": [4]}, 60)
        assert here.get("session") == {"ids": [4]}  # a new reply: unpickled, not copied
        assert len(unpickled) == 2
        near = here._cache.near
        assert near._bytes == 2 * len(near._entries[here.make_key("session")][0])
        elsewhere.delete("session")
        assert here.get("session") is None
        assert near._bytes == 0 and not near._decoded
    finally:
        here.clear()


def test_a_write_by_any_redis_client_and_an_expiry_drop_the_copy(prefix):
    here = _cache(prefix)
    raw = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        here.set("k", "old", 60)
        assert here.get("k") == "old"
        raw.set(here.make_key("k"), here._cache._serializer.dumps("new"))
        assert here.get("k") == "new"
        raw.pexpire(here.make_key("k"), 1)
        raw.get(here.make_key("k"))  # Redis expires it lazily on access, or by its own cycle
        deadline = time.monotonic() + 5
        while here.get("k") is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert here.get("k") is None
    finally:
        here.clear()


def test_a_flush_drops_every_copy(prefix):
    here, elsewhere = _cache(prefix), _cache(prefix)
    here.set("k", 1, 60)
    assert here.get("k") == 1
    elsewhere.clear()
    assert here.get("k") is None


def test_an_invalidation_during_a_miss_keeps_no_stale_copy(prefix):
    """The race of the Redis documentation: the value read is replaced before it is kept."""
    here, elsewhere = _cache(prefix), _cache(prefix)
    try:
        elsewhere.set("k", "v1", 60)
        near = here._cache.near
        key = here.make_key("k")
        found, pending = near.lookup([key])
        assert not found and key in pending
        stale = here._cache.get_client().get(key)  # the read, answered before the write
        elsewhere.set("k", "v2", 60)
        near.keep(pending, {key: stale})
        assert here.get("k") == "v2"
    finally:
        here.clear()


def test_a_lost_tracking_connection_drops_the_copies_and_reads_go_to_redis(prefix):
    here, elsewhere = _cache(prefix), _cache(prefix)
    try:
        here.set("k", "v1", 60)
        assert here.get("k") == "v1"
        near = here._cache.near
        near._connection.send_command("CLIENT", "ID")
        client_id = near._connection.read_response()
        redis.Redis.from_url(os.environ["REDIS_URL"]).client_kill_filter(_id=client_id)
        elsewhere.set("k", "v2", 60)  # its invalidation can no longer reach `here`
        assert here.get("k") == "v2"
        assert near._connection is None  # until it is back: every read asks Redis
        assert here.get("k") == "v2"
    finally:
        here.clear()


def test_the_threads_of_a_process_share_one_set_of_copies_bounded_in_bytes(prefix):
    url = os.environ["REDIS_URL"]
    first = RedisCache(url, {"KEY_PREFIX": prefix, "OPTIONS": {"near_cache": True}})
    second = RedisCache(url, {"KEY_PREFIX": prefix, "OPTIONS": {"near_cache": True}})
    assert first._cache.near is second._cache.near is near_cache_for(url, {})

    small = _cache(prefix, max_bytes=10_000)
    try:
        for i in range(10):
            small.set(f"page{i}", "x" * 3000, 60)
            small.get(f"page{i}")
        near = small._cache.near
        assert near._bytes <= 10_000
        assert len([v for v, _ in near._entries.values() if isinstance(v, bytes)]) <= 3
        assert small.get("page0") == "x" * 3000  # an evicted copy is read from Redis again
    finally:
        small.clear()


def test_within_a_request_the_copies_are_brought_up_to_date_once(prefix):
    # The module's own receivers, not the whole signal: Django's receivers on it
    # (close_old_connections) would open the database, which this test does not use.
    from django.core.signals import request_finished, request_started

    from config import redis_cache

    assert redis_cache._request_started in _receivers(request_started)
    assert redis_cache._request_finished in _receivers(request_finished)
    here, elsewhere = _cache(prefix), _cache(prefix)
    try:
        here.set("k", "v1", 60)
        redis_cache._request_started()
        assert here.get("k") == "v1"  # brought up to date here, then read as from a snapshot
        elsewhere.set("k", "v2", 60)
        time.sleep(0.05)
        assert here.get("k") == "v1"
        redis_cache._request_finished()
        redis_cache._request_started()
        assert here.get("k") == "v2"  # the next request sees the write
        redis_cache._request_finished()
    finally:
        here.clear()


def _receivers(signal) -> list:
    sync_receivers, _async_receivers = signal._live_receivers(None)
    return sync_receivers
