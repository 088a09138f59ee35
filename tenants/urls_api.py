"""Tenant-host API routes (members-only by default: see tenants.permissions)."""

urlpatterns: list = []
