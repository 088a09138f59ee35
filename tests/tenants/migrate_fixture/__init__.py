"""A throwaway tenant app whose migrations the migrate_tenants tests roll out.

Installed only inside those tests (settings override), never in the project's settings.
"""
