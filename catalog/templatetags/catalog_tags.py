"""Template filters for money: ``{{ price|usd }}`` (exact), ``{{ amount|usd:4 }}`` (rounded),
``{{ price|price_words }}``."""

from __future__ import annotations

from decimal import Decimal

from django import template

from catalog.models import Price, PriceSource
from catalog.price_words import describe_models_price, describe_price, format_usd

register = template.Library()


@register.filter
def usd(value: Decimal | None, places: int | None = None) -> str:
    if value is None:
        return "—"
    return format_usd(Decimal(value), places=places)


@register.filter
def price_words(price: Price) -> str:
    """A stored price in words, as the model page states prices."""
    if price.source == PriceSource.MODELS:
        return describe_models_price(price.billable, price.cost_usd)
    return describe_price(price)
