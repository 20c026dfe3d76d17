"""What the catalog's pages tell search engines and link previews beyond what people read: schema.org
JSON-LD (a product, a breadcrumb trail) and the absolute addresses they name.

Only catalog data goes in, never the visitor's (no session, cart or account): the pages are shared by
every anonymous reader through the cache (core/cache/), whose key holds the scheme and host these
absolute addresses are built from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin

from flask import current_app, request, url_for

from shopapp.categories.models import Category
from shopapp.media.services import image_urls
from shopapp.products.models import Product

SCHEMA = "https://schema.org"
# One step of a breadcrumb trail: its name and (relative) address.
Step = tuple[str, str]


def absolute(url: str) -> str:
    """``url`` (an address on this site, as ``url_for`` gives it) with this request's scheme and host."""
    return urljoin(request.host_url, url)


def catalog_steps(categories: Sequence[Category]) -> list[Step]:
    """The catalog, then each category from the root down (``categories.services.ancestors``)."""
    return [("Catalog", url_for("catalog.index"))] + [
        (category.name, url_for("catalog.category", ident=category.id, slug=category.slug)) for category in categories
    ]


def breadcrumb_ld(steps: Sequence[Step], current: str | None = None) -> dict[str, Any]:
    """A ``BreadcrumbList`` of ``steps``, then ``current`` (the page itself, which has no link) if given."""
    items: list[tuple[str, str]] = [(name, absolute(url)) for name, url in steps]
    if current is not None:
        items.append((current, absolute(request.path)))
    return {
        "@context": SCHEMA,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": name, "item": url}
            for position, (name, url) in enumerate(items, start=1)
        ],
    }


def _address(product: Product) -> str:
    return absolute(url_for("catalog.product", ident=product.id, slug=product.slug))


def product_ld(product: Product) -> dict[str, Any]:
    """A schema.org ``Product`` with its ``Offer``: what a search result shows beside the link."""
    url = _address(product)
    data: dict[str, Any] = {
        "@context": SCHEMA,
        "@type": "Product",
        "name": product.name,
        "url": url,
        "sku": product.sku or str(product.id),  # the shop's own SKU; without one, our id
    }
    if product.description:
        data["description"] = product.description
    if product.images:
        data["image"] = [absolute(image_urls(image)["large"]) for image in product.images]
    if product.category is not None:
        data["category"] = product.category.name
    data["offers"] = {
        "@type": "Offer",
        "url": url,
        "price": f"{product.price:.2f}",
        "priceCurrency": current_app.config["CURRENCY"],
        "availability": f"{SCHEMA}/{'InStock' if product.in_stock else 'OutOfStock'}",
        "seller": {"@type": "Organization", "name": product.shop.name},
    }
    return data
