"""The owner's product forms."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from shopapp.auth.models import User
from shopapp.categories.forms import category_choices
from shopapp.core.forms import (
    CheckedForm,
    SelectField,
    WholeNumberField,
    optional_id,
)
from shopapp.products.models import MAX_STOCK, Product
from shopapp.products.services import FIELDS, STOCK_CHANGE
from shopapp.shops.services import list_own_shops


class QuickEditForm(CheckedForm):
    """The fields an owner changes most, edited in place in the products table."""

    rules = FIELDS

    price = StringField("Price", validators=[InputRequired()], render_kw={"inputmode": "decimal"})
    stock = WholeNumberField("Stock", validators=[InputRequired(), NumberRange(0, MAX_STOCK)])
    is_active = BooleanField("Active", default=True)
    # The version the owner started from: saving over someone else's newer edit is refused.
    version = HiddenField()
    # Set when that happened: the product as it is now, shown beside the owner's values.
    current: Product | None = None

    def changes(self) -> dict[str, Any]:
        return {"price": self.price.data, "stock": self.stock.data, "is_active": self.is_active.data}

    def expected_version(self) -> int | None:
        """The version the form was sent with; none (the field left out, or not a number) means the save is
        not checked against one: the last write wins, as in the API without ``If-Match``.

        Read from what was sent, not ``data``: a field missing from the form keeps the product's own version.
        """
        sent = (self.version.raw_data or [""])[0]
        return int(sent) if isinstance(sent, str) and sent.isascii() and sent.isdigit() else None


def _blank_as_none(value: str | None) -> str | None:
    return (value or "").strip() or None


class ProductForm(QuickEditForm):
    name = StringField("Name", validators=[InputRequired()])
    sku = StringField(
        "SKU",
        filters=[_blank_as_none],
        description="Optional; letters, digits and punctuation, no spaces (unique in the shop).",
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    description = TextAreaField("Description", render_kw={"rows": 5})
    category_id = SelectField("Category", coerce=optional_id)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category_id.choices = category_choices("No category")

    def changes(self) -> dict[str, Any]:
        return {
            **super().changes(),
            "name": self.name.data,
            "sku": self.sku.data,
            "description": self.description.data or "",
            "category_id": self.category_id.data,
        }


class ProductEditForm(ProductForm):
    """The full form of an existing product, which may also move to another of the owner's shops: only their
    own live shops are choices, so another owner's shop id sent by hand is a form error before any write."""

    shop_id = SelectField("Shop", coerce=int, description="Move the product to another of your shops.")

    def __init__(self, *args: Any, owner: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shop_id.choices = [SelectChoice(str(shop.id), shop.name) for shop in list_own_shops(owner)]

    def changes(self) -> dict[str, Any]:
        return {**super().changes(), "shop_id": self.shop_id.data}


class StockForm(CheckedForm):
    """Add to (or take from) the stock by a delta, as the API's POST /products/{id}/stock: one atomic update."""

    rules = STOCK_CHANGE

    delta = WholeNumberField(
        "Change stock by",
        validators=[InputRequired()],
        description=f"A negative number takes from the stock; it stays between 0 and {MAX_STOCK}.",
    )

    def sent_delta(self) -> int:
        """The delta of a valid form (its field is required, so it is a number then)."""
        return int(self.delta.data or 0)


# The table's bulk actions as the owner reads them: each a service action (products/bulk.py) and what it said.
BULK_ACTIONS = {
    "activate": ("Activate", "activated"),
    "deactivate": ("Deactivate", "deactivated"),
    "delete": ("Delete", "deleted"),
    "restore": ("Restore", "restored"),
    "set_category": ("Move to category", "moved"),
    "set_stock": ("Set stock to", "given the new stock"),
    "amount": ("Change price by amount", "repriced"),
    "percent": ("Change price by %", "repriced"),
}
SCOPES = {"selected": "Selected rows", "page": "All on this page", "all": "All matching this filter"}


class BulkForm(FlaskForm):
    """One action on the rows ticked in the table (their ``product_ids`` checkboxes belong to this form), on the
    page's rows, or on every product the table's filter matches. The service checks the rest."""

    action = SelectField("Action", choices=[SelectChoice(key, label) for key, (label, _) in BULK_ACTIONS.items()])
    value = StringField("Value", render_kw={"inputmode": "decimal", "placeholder": "e.g. 10 or -2.50"})
    category_id = SelectField("Category", coerce=optional_id)
    scope = SelectField("Apply to", choices=[SelectChoice(*item) for item in SCOPES.items()], default="selected")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.category_id.choices = category_choices("No category")

    def messages(self) -> list[str]:
        """Every refusal to show above the bar: the form's own, then each field's, named by its label."""
        fields = (self.action, self.value, self.category_id, self.scope)
        return [*self.form_errors, *(f"{field.label.text}: {error}" for field in fields for error in field.errors)]

    def service_call(self) -> tuple[str, Any]:
        """The service's action and value for what was chosen (a value the service does not need is left out)."""
        action, typed = self.action.data, (self.value.data or "").strip()
        if action == "set_category":
            return action, self.category_id.data
        if action == "set_stock":
            return action, int(typed) if typed.isascii() and typed.isdigit() else typed or None
        if action in ("amount", "percent"):
            return "adjust_price", {action: typed}
        return action, None


class ImportForm(FlaskForm):
    """A CSV file of products to dry-run (products/imports.py)."""

    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to import.")])
