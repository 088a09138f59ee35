"""Per-tenant progress events and rollups live in each tenant's schema."""
