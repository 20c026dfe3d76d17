from __future__ import annotations

from flask_login import UserMixin
from sqlalchemy import Boolean, Index, Integer, String, func, true
from sqlalchemy.orm import Mapped, mapped_column

from shopapp.core.db import Model, TimestampMixin


class User(UserMixin, TimestampMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Bumped by logout, password change and deactivation: every session and API token
    # carrying an older value stops working.
    token_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    def get_id(self) -> str:
        """The session remembers the user *and* the version it was issued for."""
        return f"{self.id}:{self.token_version}"


# Emails are unique whatever their letter case, enforced by the database itself.
Index("uq_users_email_lower", func.lower(User.email), unique=True)
