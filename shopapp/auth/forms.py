"""Account forms. Length and format rules live in the services; these only collect the values."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import InputRequired


class RegisterForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired()], render_kw={"autocomplete": "name"})
    email = EmailField("Email", validators=[InputRequired()], render_kw={"autocomplete": "email"})
    password = PasswordField("Password", validators=[InputRequired()], render_kw={"autocomplete": "new-password"})
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


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired()], render_kw={"autocomplete": "current-password"}
    )
    new_password = PasswordField(
        "New password", validators=[InputRequired()], render_kw={"autocomplete": "new-password"}
    )
    submit = SubmitField("Change password")
