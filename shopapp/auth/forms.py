"""Account forms. Length and format rules live in the services; these only collect the values."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired

from shopapp.auth.services import NEW_PASSWORD, REGISTRATION
from shopapp.core.forms import CheckedForm


class RegisterForm(CheckedForm):
    rules = REGISTRATION
    name = StringField("Name", validators=[InputRequired()], render_kw={"autocomplete": "name"})
    email = EmailField("Email", validators=[InputRequired()], render_kw={"autocomplete": "email"})
    password = PasswordField("Password", validators=[InputRequired()], render_kw={"autocomplete": "new-password"})
    next = HiddenField()  # where to go once registered (checkout, for a customer with a cart)
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired()], render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[InputRequired()], render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Remember me on this device")
    next = HiddenField()
    submit = SubmitField("Log in")


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired()], render_kw={"autocomplete": "name"})
    submit = SubmitField("Save")


class PasswordForm(CheckedForm):
    rules = NEW_PASSWORD  # the current password can only be checked by the service (it counts towards a throttle)
    current_password = PasswordField(
        "Current password", validators=[InputRequired()], render_kw={"autocomplete": "current-password"}
    )
    new_password = PasswordField(
        "New password", validators=[InputRequired()], render_kw={"autocomplete": "new-password"}
    )
    submit = SubmitField("Change password")
