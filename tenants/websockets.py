"""Tenant-aware websockets.

django-tenants' middleware runs for HTTP only. `TenantWebsocketMiddleware` resolves the
tenant from the Host header, authenticates the user from the session cookie, and refuses the
connection unless the user is a member of that tenant. Consumers find the tenant in
`scope["tenant"]` and name their groups with `tenant_group()`, so a socket of school A can
never be subscribed to a group of school B.
"""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.urls import path

from tenants.models import Domain, Membership, Tenant

CLOSE_UNKNOWN_TENANT = 4404
CLOSE_FORBIDDEN = 4403


def tenant_group(tenant: Tenant, name: str) -> str:
    """A channel-layer group name private to one tenant."""
    return f"t.{tenant.public_id.hex}.{name}"


def _hostname(scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"host":
            return value.decode("latin-1").split(":")[0].lower()
    return ""


@database_sync_to_async
def _tenant_for_host(hostname: str) -> Tenant | None:
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    return domain.tenant if domain else None


@database_sync_to_async
def _membership(user, tenant: Tenant) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, tenant=tenant).first()


class _MembershipGate:
    """Inner middleware: runs after authentication, admits members of scope["tenant"] only."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        membership = await _membership(scope["user"], scope["tenant"])
        tenant = scope["tenant"]
        if membership is None or tenant.is_suspended or tenant.is_closing:
            await _refuse(send, CLOSE_FORBIDDEN)
            return None
        scope["membership"] = membership
        return await self.app(scope, receive, send)


async def _refuse(send, code: int) -> None:
    # Closing before accepting makes the server answer the handshake with 403.
    await send({"type": "websocket.close", "code": code})


class TenantWebsocketMiddleware:
    def __init__(self, app):
        self.inner = AuthMiddlewareStack(_MembershipGate(app))

    async def __call__(self, scope, receive, send):
        hostname = _hostname(scope)
        tenant = await _tenant_for_host(hostname) if hostname != settings.BASE_DOMAIN else None
        if tenant is None:
            await _refuse(send, CLOSE_UNKNOWN_TENANT)
            return None
        return await self.inner(dict(scope, tenant=tenant), receive, send)


class TenantEventsConsumer(AsyncJsonWebsocketConsumer):
    """A member's live feed for one tenant: tenant-wide and personal events."""

    async def connect(self):
        tenant = self.scope["tenant"]
        user = self.scope["user"]
        self.groups_joined = [tenant_group(tenant, "all"), tenant_group(tenant, f"user.{user.pk}")]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "tenant": tenant.slug})

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def tenant_event(self, event):
        await self.send_json(event["payload"])


websocket_urlpatterns = [path("ws/events/", TenantEventsConsumer.as_asgi())]
