"""A tenant app used only by bench/tenant_migrations.py: one table, then one new migration."""
