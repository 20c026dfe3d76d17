"""Category forms, and the indented tree every category <select> offers."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from shopapp.categories.services import FIELDS, category_outline
from shopapp.core.forms import CheckedForm, SelectField, optional_id

INDENT = "\u00a0\u00a0\u00a0"  # <option> ignores CSS padding; non-breaking spaces show the depth


def category_choices(blank: str, owner_id: int | None = None) -> list[SelectChoice]:
    """The whole tree (or only ``owner_id``'s categories) as indented options, after an empty choice ``blank``."""
    return [SelectChoice("", blank)] + [
        SelectChoice(str(ident), INDENT * depth + name) for ident, depth, name in category_outline(owner_id)
    ]


class CategoryForm(CheckedForm):
    """A category of ``owner_id``'s: its parent can only be one of their own categories (or none)."""

    rules = FIELDS

    name = StringField("Name", validators=[InputRequired()])
    description = TextAreaField("Description", render_kw={"rows": 3})
    parent_id = SelectField("Parent category", coerce=optional_id)

    def __init__(self, *args: object, owner_id: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.parent_id.choices = category_choices("None (a top-level category)", owner_id)

    def changes(self) -> dict[str, object]:
        return {"name": self.name.data, "description": self.description.data or "", "parent_id": self.parent_id.data}
