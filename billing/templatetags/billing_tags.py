"""Template filters for amounts kept in cents."""

from django import template

register = template.Library()


@register.filter
def money(cents, currency: str = "usd") -> str:
    """1999 → "$19.99" (other currencies get their code: "19.99 EUR")."""
    amount = f"{(cents or 0) / 100:,.2f}"
    return f"${amount}" if (currency or "usd").lower() == "usd" else f"{amount} {currency.upper()}"
