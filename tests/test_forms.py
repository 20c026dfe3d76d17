"""The <select> every form draws: its own quick option markup must stay WTForms' markup."""

import pytest
from markupsafe import Markup
from wtforms import Form
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from shopapp.core.forms import SelectField

CHOICES = [
    SelectChoice("", "All categories"),
    SelectChoice("1", "Kitchen"),
    SelectChoice("2", "\u00a0\u00a0\u00a0Mugs & <Cups>"),
    SelectChoice('3"', "Quote in the value"),
    SelectChoice("4", ""),  # no label: the value stands in
    SelectChoice("5", "Has its own attributes", render_kw={"disabled": True}),
    SelectChoice(Markup('6"'), "A Markup value, quoted by WTForms its own way"),
]


class ChoiceForm(Form):
    pick = SelectField("Pick")


def draw(data: str, **kwargs: str) -> tuple[str, str]:
    """The field drawn by shopapp's widget and by WTForms' own."""
    form = ChoiceForm(data={"pick": data})
    form.pick.choices = CHOICES
    return str(form.pick(**kwargs)), str(Select()(form.pick, **kwargs))


@pytest.mark.parametrize("data", ["", "2", '3"', "5", "none of them"])
def test_select_draws_the_same_markup_as_wtforms(data):
    ours, theirs = draw(data, **{"aria-invalid": "true"})
    assert ours == theirs


def test_select_marks_the_chosen_option_and_escapes_labels():
    ours, _ = draw("2")
    assert '<option selected value="2">\u00a0\u00a0\u00a0Mugs &amp; &lt;Cups&gt;</option>' in ours
    assert '<option value="1">Kitchen</option>' in ours
    assert '<option value="3&#34;">' in ours and '<option value="4">4</option>' in ours
    assert '<option disabled value="5">' in ours
