"""Django's Redis cache with two changes: one redis-py client per connection pool, and this
process's own copies of what it read, dropped the moment Redis says a key changed (and keys
are not checked against memcached's rules: `RedisCache.validate_key`).

One client per pool: Django 5.2's `RedisCacheClient.get_client` builds a new `redis.Redis`
around the pool on every cache call, and redis-py 8 fills some 500 response callbacks each time:
about 0.1 ms of CPU a call (docs/scaling.md). A `redis.Redis` holds no connection of its own (it
takes one from the pool for each command) and is safe to share between threads.

Near copies (`NearCache`): a member's page reads five to eight values from the cache before
its view runs (the host's tenant, the session, the user, the page chrome, the page_parts
version, cached parts), and a command through redis-py costs 0.2 to 0.5 ms of the web process's
CPU: most of what a cached page costs. So each process keeps the raw replies it read, and Redis
tells it when they change: *client-side caching* with key tracking in broadcasting mode
(https://redis.io/docs/latest/develop/reference/client-side-caching/). One connection of the
process's own, in RESP3, runs `CLIENT TRACKING ON BCAST`; from then on Redis pushes an
invalidation on it for every key written, deleted, expired or evicted, by anyone, and a null
one when the database is flushed. Before the first read of each request from the copies (and
before every read outside a request: tasks, commands), the pushes already received are applied
(a non-blocking read of that socket), so a write that finished before this request began — a
suspension, a new password, a bumped page version — is never served from a copy: Redis queues
the push to every tracking client before it answers the writer. Within one request the copies
are then read as they were when it began, as from a snapshot (one system call a request, not
one a read: under gunicorn's threads each one also waits for the GIL again). A miss puts a
placeholder first and keeps the reply only if no invalidation took the placeholder meanwhile
(the race the Redis documentation describes). If the tracking connection fails, every copy is
dropped and reads go to Redis until it is back. The threads of a process share one set of
copies (Django keeps a cache object per thread), bounded in number, bytes (64 MB) and age (a
minute); a forked process starts with none.

Written by hand because redis-py's own client-side cache (`cache_config`) refuses servers
before Redis 7.4, and production's ElastiCache and the machines' Redis are 7.0 and 7.1; tracking
itself has been in Redis since 6.0. Values are kept as the raw bytes Redis sent. The first read
of a copy unpickles it and keeps the result; each read after that gets a copy of the result of
its own (config.cache_copies: a model instance in 1 µs instead of 8 µs to unpickle), so no two
requests ever share a mutable object. A result config.cache_copies cannot copy is unpickled on
every read. A kept result counts against the bytes bound as much as its reply.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.core.signals import request_finished, request_started

from config import cache_copies

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0

# The copies this thread's current request has brought up to date (None outside a request).
_request = threading.local()


def _request_started(**kwargs) -> None:
    _request.drained = set()


def _request_finished(**kwargs) -> None:
    _request.drained = None


request_started.connect(_request_started, dispatch_uid="near-cache-request-started")
request_finished.connect(_request_finished, dispatch_uid="near-cache-request-finished")


class NearCache:
    """Raw replies this process read from Redis, valid until Redis reports a change."""

    def __init__(
        self, url: str, *, max_entries: int = 20_000, max_bytes: int = 64 << 20,
        max_age: float = 60.0,
    ):  # fmt: skip
        self.url, self.max_entries, self.max_bytes = url, max_entries, max_bytes
        self.max_age = max_age
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[bytes | object, float]] = OrderedDict()
        # key → (the reply, what it unpickled to, how to copy that) for the copies read so far
        self._decoded: dict[str, tuple[bytes, object, cache_copies.Copier]] = {}
        self._bytes = 0
        self._connection = None
        self._pid = None
        self._down_until = 0.0

    # --- The tracking connection (called with the lock held) --------------------------------

    def _tracking(self) -> bool:
        """Whether copies may be used now: the tracking connection is up and drained."""
        if self._pid != os.getpid():  # a forked child shares no socket with its parent
            self._clear()
            self._connection, self._pid = None, os.getpid()
        if self._connection is None:
            if time.monotonic() < self._down_until:
                return False
            try:
                self._connection = self._connect()
            except Exception as error:  # a down Redis: reads go to it and fail as they would
                self._down_until = time.monotonic() + RETRY_AFTER_S
                logger.warning("near cache: tracking unavailable (%s)", error)
                return False
        drained = getattr(_request, "drained", None)
        if drained is not None:
            if self in drained:  # already applied since this request began
                return True
            drained.add(self)
        try:
            while self._connection.can_read(0):
                self._connection.read_response(
                    push_request=True, timeout=0, disconnect_on_error=False
                )
        except Exception as error:  # unknown writes may be missed: forget every copy
            logger.warning("near cache: tracking connection lost (%s)", error)
            self._reset()
            return False
        return True

    def _connect(self):
        import redis

        pool = redis.ConnectionPool.from_url(self.url, protocol=3, socket_timeout=5)
        connection = pool.get_connection()
        # redis-py applies RESP3 invalidation pushes through the parser's handler (the same
        # hook its own client-side cache uses).
        connection._parser.set_invalidation_push_handler(self._on_invalidation)
        connection.send_command("CLIENT", "TRACKING", "ON", "BCAST")
        if connection.read_response() not in (b"OK", "OK"):
            raise ConnectionError("CLIENT TRACKING was refused")
        self._clear()  # anything read before tracking began is unknown
        return connection

    def _reset(self) -> None:
        self._clear()
        if self._connection is not None:
            with contextlib.suppress(Exception):  # already broken: dropping it is all that is left
                self._connection.disconnect()
        self._connection = None
        self._down_until = time.monotonic() + RETRY_AFTER_S

    def _on_invalidation(self, message) -> None:
        keys = message[1]
        if keys is None:  # FLUSHDB / FLUSHALL
            self._clear()
            return
        for key in keys:
            self._pop(key.decode() if isinstance(key, bytes) else key)

    def _clear(self) -> None:
        self._entries.clear()
        self._decoded.clear()
        self._bytes = 0

    def _pop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and isinstance(entry[0], bytes):
            self._bytes -= len(entry[0])
        decoded = self._decoded.pop(key, None)
        if decoded is not None:
            self._bytes -= len(decoded[0])

    def _put(self, key: str, value, expires: float) -> None:
        self._pop(key)
        self._entries[key] = (value, expires)
        if isinstance(value, bytes):
            self._bytes += len(value)
        self._evict()

    def _evict(self) -> None:
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._pop(oldest)

    # --- Reads and writes -------------------------------------------------------------------

    def lookup(self, keys: list[str]) -> tuple[dict[str, bytes], dict[str, object]] | None:
        """(copies found, placeholders for the misses), or None when copies cannot be trusted
        now (every key is read from Redis)."""
        found, pending = {}, {}
        with self._lock:
            if not self._tracking():
                return None
            now = time.monotonic()
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None and isinstance(entry[0], bytes) and entry[1] > now:
                    found[key] = entry[0]
                    self._entries.move_to_end(key)
                else:
                    pending[key] = placeholder = object()
                    self._put(key, placeholder, now + self.max_age)
        return found, pending

    def keep(self, pending: dict[str, object], replies: dict[str, bytes | None]) -> None:
        """Keep the replies whose placeholder no invalidation has taken since `lookup`."""
        with self._lock:
            if not pending or not self._tracking():
                return
            expires = time.monotonic() + self.max_age
            for key, placeholder in pending.items():
                entry = self._entries.get(key)
                if entry is None or entry[0] is not placeholder:
                    continue
                value = replies.get(key)
                if value is None:  # a miss is not kept: the next read asks Redis again
                    self._pop(key)
                else:
                    self._put(key, value, expires)

    def value(self, key: str, reply: bytes, loads):
        """What `reply` (read for `key`) holds: the copy's own result, copied, when it was
        unpickled before; else unpickled, and its result kept if it can be copied and the copy
        is still `reply`."""
        decoded = self._decoded.get(key)
        if decoded is not None and decoded[0] is reply:
            return decoded[2](decoded[1])
        value = loads(reply)
        copy = cache_copies.copier(value)
        if copy is None:
            return value
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] is reply and key not in self._decoded:
                self._decoded[key] = (reply, value, copy)
                self._bytes += len(reply)
                self._evict()
        return copy(value)

    def forget(self, keys) -> None:
        with self._lock:
            for key in keys:
                self._pop(key)

    def forget_all(self) -> None:
        with self._lock:
            self._clear()


# Django keeps a cache object per thread; the threads of a process share one set of copies.
_near_caches: dict[tuple, NearCache] = {}
_near_caches_lock = threading.Lock()


def near_cache_for(url: str, options: dict) -> NearCache:
    key = (url, tuple(sorted(options.items())))
    with _near_caches_lock:
        if key not in _near_caches:
            _near_caches[key] = NearCache(url, **options)
        return _near_caches[key]


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, servers, *args, near_cache: dict | bool = False, **kwargs):
        super().__init__(servers, *args, **kwargs)
        self._clients = {}
        options = near_cache if isinstance(near_cache, dict) else {}
        # Reads go to the first server unless there are replicas; copies track that one only.
        self.near = (
            near_cache_for(servers[0], options) if near_cache and len(servers) == 1 else None
        )

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def _mget(self, keys: list[str]) -> dict[str, bytes | None]:
        return dict(zip(keys, self.get_client(None).mget(keys), strict=True))

    def _raw(self, keys: list[str]) -> dict[str, bytes | None]:
        looked_up = self.near.lookup(keys) if self.near is not None else None
        if looked_up is None:
            return self._mget(keys)
        found, pending = looked_up
        if pending:
            replies = self._mget(list(pending))
            self.near.keep(pending, replies)
            found.update(replies)
        return found

    def _loads(self, key: str, reply: bytes):
        if self.near is None:
            return self._serializer.loads(reply)
        return self.near.value(key, reply, self._serializer.loads)

    def get(self, key, default):
        value = self._raw([key]).get(key)
        return default if value is None else self._loads(key, value)

    def get_many(self, keys):
        keys = list(keys)
        if not keys:
            return {}
        raw = self._raw(keys)
        return {k: self._loads(k, raw[k]) for k in keys if raw.get(k) is not None}

    def _forget(self, keys) -> None:
        if self.near is not None:
            self.near.forget(keys)

    def add(self, key, value, timeout):
        self._forget([key])
        return super().add(key, value, timeout)

    def set(self, key, value, timeout):
        self._forget([key])
        super().set(key, value, timeout)

    def touch(self, key, timeout):
        self._forget([key])
        return super().touch(key, timeout)

    def delete(self, key):
        self._forget([key])
        return super().delete(key)

    def incr(self, key, delta):
        self._forget([key])
        return super().incr(key, delta)

    def set_many(self, data, timeout):
        self._forget(list(data))
        super().set_many(data, timeout)

    def delete_many(self, keys):
        keys = list(keys)
        self._forget(keys)
        super().delete_many(keys)

    def clear(self):
        if self.near is not None:
            self.near.forget_all()
        return super().clear()


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def validate_key(self, key):
        """Nothing to check: Django's checks warn of keys memcached would refuse (over 250
        characters, spaces, control characters), and Redis takes any key. Scanning each key
        character by character was 2 % of a kept page's CPU (docs/scaling.md)."""
