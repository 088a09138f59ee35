"""PostHog, server side: the only module that imports the SDK.

What is sent: an event name, the member's opaque public id as `distinct_id`, the tenant as a
PostHog group (`groups={"tenant": <tenant public id>}`) and ids of things, never names, emails
or text. Without POSTHOG_API_KEY nothing is created and nothing is sent.

The SDK's client queues events in memory and a background thread sends them in batches
(`sync_mode=False`), so a capture never waits for the network; a failure to queue or send is
logged and swallowed, so product analytics can never fail a request.
https://posthog.com/docs/libraries/python
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from uuid import UUID

from django.conf import settings
from posthog import Client

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_client: Client | None = None
_client_config: tuple[str, str] | None = None


def _on_error(error, batch) -> None:
    logger.warning("posthog: a batch of %s events was not accepted: %s", len(batch), error)


def client() -> Client | None:
    """The process's client, or None when no key is configured."""
    global _client, _client_config
    key = getattr(settings, "POSTHOG_API_KEY", "")
    if not key:
        return None
    config = (key, settings.POSTHOG_HOST)
    with _lock:
        if _client is None or _client_config != config:
            if _client is not None:
                _client.shutdown()
            _client = Client(
                key, host=settings.POSTHOG_HOST, sync_mode=False, disable_geoip=True,
                on_error=_on_error, flush_interval=2.0, max_retries=3, timeout=5,
            )
            _client_config = config
        return _client


def capture(
    *,
    event: str,
    distinct_id: str | UUID,
    tenant_id: str | UUID | None = None,
    properties: dict | None = None,
    timestamp: datetime | None = None,
    uuid: str | UUID | None = None,
) -> bool:
    """Queue one event; True if it was queued. Never raises."""
    try:
        posthog = client()
        if posthog is None:
            return False
        groups = {"tenant": str(tenant_id)} if tenant_id else None
        posthog.capture(
            event, distinct_id=str(distinct_id), properties=dict(properties or {}),
            groups=groups, timestamp=timestamp, uuid=str(uuid) if uuid else None,
        )
        return True
    except Exception:
        logger.exception("posthog: could not queue %s", event)
        return False


def flush() -> None:
    """Send what is queued now (the worker does this at shutdown; tests call it)."""
    try:
        posthog = client()
        if posthog is not None:
            posthog.flush()
    except Exception:
        logger.exception("posthog: flush failed")
