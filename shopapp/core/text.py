"""Text helpers shared by features: slugs and whitespace-normalised names."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(value: str, max_length: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    slug = _NON_WORD.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"


def clean_name(value: str) -> str:
    """Trim and collapse inner whitespace, so "  Red   mug " and "Red mug" are the same name."""
    return " ".join(value.split())


def like_pattern(query: str) -> str:
    """A case-insensitive "contains" pattern for ``ilike(..., escape="\\")``; ``%`` and ``_`` match themselves."""
    escaped = query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
