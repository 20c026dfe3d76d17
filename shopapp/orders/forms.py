"""The customers' and owners' order forms; the rules of each value live in shopapp/orders/services.py."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange

from shopapp.core import validation
from shopapp.core.forms import CheckedForm, WholeNumberField
from shopapp.orders import services
from shopapp.orders.models import MAX_QUANTITY, NOTE_MAX

ADDRESS = ("name", "line1", "line2", "city", "postal_code", "country")


class AddToCartForm(FlaskForm):
    """ "Add to cart" on a product page and on the catalog's cards; ``next`` is the page to go back to."""

    product_id = WholeNumberField(validators=[InputRequired()])
    quantity = WholeNumberField("Quantity", default=1, validators=[InputRequired(), NumberRange(1, MAX_QUANTITY)])
    next = HiddenField()


class QuantityForm(FlaskForm):
    """One cart line's quantity; 0 removes the line."""

    quantity = WholeNumberField("Quantity", validators=[InputRequired(), NumberRange(0, MAX_QUANTITY)])


def _note(value: Any) -> str:
    return validation.text(value, "note", NOTE_MAX)


class AddressForm(CheckedForm):
    """The shipping address and the note, the first step of checkout; every invalid value shows at once."""

    rules: ClassVar[validation.Rules] = {**services.ADDRESS_FIELDS, "note": _note}
    name = StringField("Full name", validators=[InputRequired()], render_kw={"autocomplete": "name"})
    line1 = StringField("Address", validators=[InputRequired()], render_kw={"autocomplete": "address-line1"})
    line2 = StringField(
        "Address line 2", description="Optional: flat, floor, c/o.", render_kw={"autocomplete": "address-line2"}
    )
    city = StringField("City", validators=[InputRequired()], render_kw={"autocomplete": "address-level2"})
    postal_code = StringField("Postal code", validators=[InputRequired()], render_kw={"autocomplete": "postal-code"})
    country = StringField(
        "Country",
        validators=[InputRequired()],
        description="Two-letter code, as DE, FR or GB.",
        render_kw={"autocomplete": "country", "maxlength": 2, "size": 4},
    )
    note = TextAreaField("Note for the shops", description="Optional.", render_kw={"rows": 3, "maxlength": NOTE_MAX})

    def address(self) -> dict[str, str | None]:
        values = {name: (self[name].data or "").strip() for name in ADDRESS}
        return {**values, "line2": values["line2"] or None, "country": values["country"].upper()}

    def note_text(self) -> str | None:
        return (self.note.data or "").strip() or None


class PlaceOrderForm(AddressForm):
    """The review step's "Place order": the reviewed address and note in hidden fields, the total the customer
    saw (a different one now is a 409, never a surprise) and an idempotency key made at review time, so a
    double submit places one set of orders."""

    expected_total = HiddenField(validators=[InputRequired()])
    idempotency_key = HiddenField(validators=[InputRequired()])

    def body(self) -> dict[str, Any]:
        return {
            "shipping_address": self.address(),
            "note": self.note_text(),
            "expected_total": self.expected_total.data,
        }


class ShipForm(FlaskForm):
    tracking_number = StringField("Tracking number", description="Optional.", render_kw={"maxlength": 200})


class CancelForm(FlaskForm):
    reason = StringField("Reason", description="Optional.", render_kw={"maxlength": 2000})
