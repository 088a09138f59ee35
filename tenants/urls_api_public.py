"""Public-site API routes (sign-up, my tenants)."""

urlpatterns: list = []
