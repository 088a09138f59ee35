"""Django's message storage (a signed cookie, then the session), made when a request first
needs it.

Django's `FallbackStorage` builds its cookie storage, and with it a cookie signer, on every
request, though most requests neither show nor add a message: 2.7 % of a kept page's CPU
(docs/scaling.md). `MessageStorage` is the same storage with its backends made on first use.
Without the messages cookie a request has no message to show, and Django's storage would read
nothing else either (its cookie storage reports it has seen every message, so the session is
not consulted); with nothing to store and no backend to empty, nothing is stored.
"""

from __future__ import annotations

from django.contrib.messages.storage.base import BaseStorage
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.utils.functional import cached_property


class MessageStorage(FallbackStorage):
    def __init__(self, *args, **kwargs):
        BaseStorage.__init__(self, *args, **kwargs)
        self._backend_arguments = (args, kwargs)
        self._used_storages = set()

    @cached_property
    def storages(self):
        args, kwargs = self._backend_arguments
        return [storage_class(*args, **kwargs) for storage_class in self.storage_classes]

    def _get(self, *args, **kwargs):
        if CookieStorage.cookie_name not in self.request.COOKIES:
            return [], True
        return super()._get(*args, **kwargs)

    def _store(self, messages, response, *args, **kwargs):
        if not messages and not self._used_storages:  # nothing to store, no backend to empty
            return []
        return super()._store(messages, response, *args, **kwargs)
