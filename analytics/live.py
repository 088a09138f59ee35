"""Live updates over websockets: pushes to a member's personal group in the current tenant.

The consumer (tenants.websockets.TenantEventsConsumer) relays `tenant.event` messages of the
groups its socket joined; group names carry the tenant, so a push in school A cannot reach a
socket of school B. Pushes happen after commit, from the process that made the change: with
the in-memory channel layer (`make dev`, one process) or channels_redis (REDIS_URL) alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from tenants.websockets import tenant_group

logger = logging.getLogger(__name__)


def push(*, user_ids: Iterable[int], payload: dict) -> None:
    """Send `payload` to the open sockets of these members of the current tenant."""
    layer = get_channel_layer()
    if layer is None:
        return
    tenant = connection.tenant

    async def send_all(ids: list[int]) -> None:
        for user_id in ids:
            await layer.group_send(
                tenant_group(tenant, f"user.{user_id}"),
                {"type": "tenant.event", "payload": payload},
            )

    try:
        async_to_sync(send_all)(sorted(set(user_ids)))
    except Exception:
        # A live update is a courtesy: the page shows the same on its next load.
        logger.exception("live push failed", extra={"type": payload.get("type")})
