"""Django's Redis cache, with one redis-py client per connection pool instead of one per call.

Django 5.2's `RedisCacheClient.get_client` builds a new `redis.Redis` around the pool on every
cache call, and redis-py 8 fills some 500 response callbacks each time: about 0.1 ms of CPU a
call, three or more calls a page (docs/scaling.md). A `redis.Redis` holds no connection of
its own (it takes one from the pool for each command) and is safe to share between threads.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
