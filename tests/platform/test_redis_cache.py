"""config.redis_cache: production's Redis cache keeps one redis-py client per connection pool
and still behaves as Django's (against a real Redis: REDIS_URL)."""

from __future__ import annotations

import os
import threading
import uuid

import pytest

from config.redis_cache import RedisCache

pytestmark = pytest.mark.services


def _cache() -> RedisCache:
    # As production has it: with each process's near copies (tests/platform/test_near_cache.py).
    return RedisCache(
        os.environ["REDIS_URL"],
        {"KEY_PREFIX": f"t-{uuid.uuid4().hex}", "OPTIONS": {"near_cache": True}},
    )


def test_one_client_serves_every_call():
    cache = _cache()
    try:
        first = cache._cache.get_client()
        cache.set("a", {"x": 1}, timeout=60)
        cache.set_many({"b": 2, "c": [3]}, timeout=60)
        assert cache.get("a") == {"x": 1}
        assert cache.get_many(["a", "b", "c", "missing"]) == {"a": {"x": 1}, "b": 2, "c": [3]}
        assert cache.incr("b") == 3
        cache.delete("a")
        assert cache.get("a") is None
        assert cache._cache.get_client(write=True) is first
        assert cache._cache.get_client() is first
    finally:
        cache.clear()


def test_threads_share_the_client_safely():
    cache = _cache()
    errors = []

    def work(n: int) -> None:
        try:
            for i in range(50):
                cache.set(f"k{n}-{i}", i, timeout=60)
                if cache.get(f"k{n}-{i}") != i:
                    errors.append((n, i))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
    finally:
        cache.clear()
