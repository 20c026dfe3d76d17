"""Flash messages that carry an action, rendered by templates/_flashes.html."""

from __future__ import annotations

from flask import flash


def flash_undo(text: str, restore_url: str) -> None:
    """Say what was deleted and offer one click (a POST to ``restore_url``) to bring it back."""
    flash({"text": text, "url": restore_url}, "undo")  # type: ignore[arg-type]  # the session stores any JSON
