from tenants.hosts import public_url


def tenancy(request):
    tenant = getattr(request, "tenant", None)
    on_tenant = tenant is not None and tenant.schema_name != "public"
    return {
        "current_tenant": tenant if on_tenant else None,
        "membership": getattr(request, "membership", None),
        "public_site_url": public_url("/"),
    }
