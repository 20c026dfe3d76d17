"""The schema the migrations keep outside the models' metadata, by name, and the Alembic hook that hides it.

Migration 0002 creates the catalog's full-text search objects, 0003 those for typo tolerance (catalog/search/
uses them); migrations/env.py and the drift test (tests/test_migrations.py) call ``include_name``.
"""

from __future__ import annotations

from collections.abc import Mapping

from shopapp.products.models import Product

# Names of the objects migration 0002 creates outside the models' metadata.
FTS_TABLE = "product_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_products_search_vector"
# Names of the objects migration 0003 creates for typo tolerance.
TRIGRAM_TABLE = "product_trgm"
TRIGRAM_INDEX = "ix_products_name_trgm"


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic hook: skip the search objects.

    They are not declared on the models on purpose: the FTS5 tables and their shadow tables
    exist only on SQLite, the generated ``search_vector`` column and the GIN indexes only on
    PostgreSQL, and a model column would exist on both and be loaded with every product.
    Filtering by name (rather than include_object) also spares reflecting the FTS5 tables.
    """
    if type_ == "table":
        return not (name or "").startswith((FTS_TABLE, TRIGRAM_TABLE))
    if type_ == "column":
        return not (parent_names.get("table_name") == Product.__tablename__ and name == SEARCH_COLUMN)
    if type_ == "index":
        return name not in (SEARCH_INDEX, TRIGRAM_INDEX)
    return True
