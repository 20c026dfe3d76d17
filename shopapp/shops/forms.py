"""The owner's shop form; the rules for each value live in the shops service."""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, EmailField, StringField, TextAreaField
from wtforms.validators import InputRequired

from shopapp.core.forms import CheckedForm
from shopapp.shops.services import FIELDS


class ShopForm(CheckedForm):
    rules = FIELDS
    name = StringField("Name", validators=[InputRequired()])
    description = TextAreaField("Description", render_kw={"rows": 4})
    address = TextAreaField("Address", render_kw={"rows": 2, "autocomplete": "street-address"})
    email = EmailField("Email", render_kw={"autocomplete": "email"})
    phone = StringField("Phone", render_kw={"autocomplete": "tel", "inputmode": "tel"})
    shipping_fee = StringField(
        "Shipping fee",
        default="0.00",
        description="Added once to each order from this shop; blank keeps it as it is (0.00 for a new shop).",
        render_kw={"inputmode": "decimal"},
    )
    is_active = BooleanField("Active", default=True, description="Inactive shops are hidden from customers.")

    def changes(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "description": self.description.data or "",
            "address": self.address.data or "",
            "email": self.email.data or "",
            "phone": self.phone.data or "",
            "is_active": self.is_active.data,
            **({"shipping_fee": fee} if (fee := (self.shipping_fee.data or "").strip()) else {}),
        }
