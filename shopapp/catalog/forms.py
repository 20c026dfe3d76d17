"""The catalog's filter form: a GET form, read by the catalog's pages into a ``CatalogQuery``."""

from __future__ import annotations

from functools import cache, partial
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, SearchField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from shopapp.catalog.query import CatalogQuery
from shopapp.categories.forms import category_choices
from shopapp.core import validation
from shopapp.core.forms import OptionalSelectField, SelectField, checked_by
from shopapp.shops.services import shop_choices

CATALOG_PER_PAGE = 12
SHOP_CHOICES = 100  # the shop filter offers this many shops at most, then "Find a shop" narrows them
SORT_CHOICES = [
    SelectChoice("relevance", "Best match"),
    SelectChoice("newest", "Newest"),
    SelectChoice("price_asc", "Price: low to high"),
    SelectChoice("price_desc", "Price: high to low"),
    SelectChoice("name", "Name"),
]


def _shop_choices(find: str | None, keep: int | None) -> list[SelectChoice]:
    found = shop_choices(SHOP_CHOICES, find=find, keep=keep)
    return [SelectChoice("", "All shops")] + [SelectChoice(str(ident), name) for ident, name in found]


class CatalogForm(FlaskForm):
    """The catalog's GET form. A bad value is reported beside its field and the rest still filters."""

    class Meta:
        csrf = False  # a search changes nothing

    q = SearchField("Search", render_kw={"placeholder": "Search products", "autocomplete": "off"})
    category = OptionalSelectField("Category")
    shop = OptionalSelectField("Shop")
    # Narrows the shops the filter offers (they are too many for one <select>), the chosen one always kept.
    shop_q = SearchField("Find a shop", render_kw={"placeholder": "Shop name", "autocomplete": "off"})
    min_price = StringField(
        "Min price", validators=[Optional(), checked_by(validation.price)], render_kw={"inputmode": "decimal"}
    )
    max_price = StringField(
        "Max price", validators=[Optional(), checked_by(validation.price)], render_kw={"inputmode": "decimal"}
    )
    in_stock = BooleanField("In stock only")
    sort = SelectField("Sort by", choices=SORT_CHOICES, default="relevance")

    def __init__(self, *args: Any, with_shop: bool = True, with_category: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Callables: loaded only once a value is checked or the filters are drawn.
        if with_category:
            self.category.choices = partial(category_choices, "All categories")
        else:
            del self.category
        if with_shop:
            # Once per request, whether to check the value or to draw the field.
            self.shop.choices = cache(lambda: _shop_choices(self.shop_q.data, self.shop.data))
        else:
            del self.shop, self.shop_q

    def _valid(self, name: str) -> Any:
        field = self._fields.get(name)
        return field.data if field is not None and not field.errors else None

    @property
    def is_filtering(self) -> bool:
        """Anything asked beyond the order: an empty answer then means "no match", not "empty catalog"."""
        return any(self._valid(name) for name in ("q", "category", "shop", "min_price", "max_price", "in_stock"))

    def to_query(self, **fixed: Any) -> CatalogQuery:
        """The catalog query from the valid fields; ``fixed`` adds the page, or pins a shop or a category."""
        prices = {
            name: validation.price(self._valid(name)) if self._valid(name) else None
            for name in ("min_price", "max_price")
        }
        values: dict[str, Any] = {
            "q": (self._valid("q") or "").strip() or None,
            "category_id": self._valid("category"),
            "shop_id": self._valid("shop"),
            "in_stock": bool(self._valid("in_stock")),
            "sort": self._valid("sort") or "relevance",
            "per_page": CATALOG_PER_PAGE,
            **prices,
        }
        return CatalogQuery(**{**values, **fixed})
