"""Django's ASGI handler with the middleware chain run once, synchronously, in one thread.

Django's own `ASGIHandler` builds the chain in async mode: every middleware that can run
either way (all of Django's `MiddlewareMixin` ones) then runs its `process_request` and
`process_response` through `sync_to_async`, and each sync-only one switches back. With
Practika's middleware that is ten thread hand-offs a page, and all of its views are
synchronous anyway: about 3 ms of CPU a request on the bench machine (the public home 4.4 ms
through Django's handler, 1.3 ms through WSGI; docs/scaling.md). Here the chain is built as
under WSGI and the whole request — middleware, view, template — runs in a single
`sync_to_async` call, in the request's thread-sensitive context (the same thread as Django's
`request_started` and `request_finished` handlers, so the database connection is the one
they open and close). Each path's URL resolution is remembered (config.url_resolution).
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler

from config.url_resolution import RememberedResolution


class PageHandler(RememberedResolution, ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
