"""The Stripe catalogue: the Products and Prices of billing.plans, created or updated."""

from __future__ import annotations

from billing import plans
from billing.integrations import stripe as stripe_api
from billing.services.checkout import require_stripe


def catalogue_sync() -> list[str]:
    """Create or update the Stripe Products and Prices of the catalogue; safe to rerun."""
    require_stripe()
    report = []
    for plan in plans.PAID_PLANS:
        product_id = f"practika_{plan.code}"
        fields = {
            "product_id": product_id, "name": f"Practika {plan.name}",
            "description": plan.description, "metadata": {"practika_plan": plan.code},
        }
        product = stripe_api.product_get(product_id)
        if product is None:
            stripe_api.product_create(**fields)
            report.append(f"created product {product_id}")
        elif (product.get("name"), product.get("description")) != (
            fields["name"], fields["description"]
        ) or not product.get("active", True):
            stripe_api.product_update(**fields)
            report.append(f"updated product {product_id}")
        existing = stripe_api.prices_by_lookup_key([p.lookup_key for p in plan.prices])
        for price in plan.prices:
            current = existing.get(price.lookup_key)
            same = current is not None and (
                current.get("unit_amount") == price.unit_amount
                and current.get("currency") == price.currency
                and (current.get("recurring") or {}).get("interval") == price.interval
                and _product_id(current) == product_id
            )
            if same:
                continue
            stripe_api.price_create(
                product_id=product_id, lookup_key=price.lookup_key,
                unit_amount=price.unit_amount, currency=price.currency, interval=price.interval,
            )
            report.append(f"{'replaced' if current else 'created'} price {price.lookup_key}")
    return report


def _product_id(price: dict) -> str:
    product = price.get("product")
    return product if isinstance(product, str) else (product or {}).get("id", "")

