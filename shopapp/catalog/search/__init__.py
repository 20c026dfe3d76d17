"""Catalog full-text search: PostgreSQL ``tsvector`` or SQLite FTS5, behind ``prepare_search`` (the words
as parameters, and the shape of the statement) and ``apply_search`` (the statement for that shape).

The schema comes from migration 0002 (its objects are named in shopapp/schema.py); one module per database
builds the statements: ``postgres.py`` and ``sqlite.py``. Both databases get the same contract: every word of
``q`` must match (AND), as a case-insensitive prefix, in the name or the description, and a
name match ranks above a description match. The user's text is never query syntax: it is
split on white space and every piece goes to the database as one quoted string, so the
database's own tokenizer cuts it exactly as it cut the indexed text (``3.5mm``, ``e-mail``).

Where the databases still differ (pinned by tests/test_search.py and tests/test_search_typos.py):

- Stemming: FTS5's ``porter`` is the original Porter stemmer, PostgreSQL's ``english`` is
  Snowball (Porter 2): ``skies`` is ``ski`` on SQLite but ``sky`` on PostgreSQL (also
  ``dying``, ``lying``, ``news``, ``generously``). Both find ``wallets`` in "Wallet".
- PostgreSQL also indexes every word unstemmed (``simple``), so a prefix that runs past the
  stem still matches there (``runn`` finds "Running", stem ``run``); FTS5 keeps stems only
  (on SQLite the typo tolerance below finds it instead).
- Accents: FTS5 folds them (``cafe`` finds "Café"); PostgreSQL keeps them (no ``unaccent``).
- Scores: ``bm25`` and ``ts_rank`` are different formulas, so the order among products
  of the same group (see ``base.name_first``) may differ; the groups themselves do not.
- In a piece the tokenizer cuts in several tokens (``3.5mm``), FTS5 treats only the last
  token as a prefix, PostgreSQL every one.

Typo tolerance (migration 0003, ``typos=True``): every word must be close to the product
*name* (descriptions are not searched this way), and the closest names rank first. The catalog
asks for it only when the exact search matches no visible product at all, so searches that
match keep their speed and ranking. The closeness differs:

- PostgreSQL: pg_trgm's strict word similarity, ``word <<% name`` (served by the trigram GIN
  index) at ``pg_trgm.strict_word_similarity_threshold`` (0.5 by default): the trigrams the
  word shares with the most similar run of whole words of the name, over all the trigrams of
  both. "lether" ~ "Leather" 0.5, "heirlom" ~ "Heirloom" 0.7, "leather" ~ "Feather" only 0.45.
- SQLite has no such function. The FTS5 trigram table picks the names sharing a trigram with
  every word; of those, a name is kept if it contains ``SQLITE_TRIGRAM_SHARE`` (60 %) of each
  word's trigrams, counted anywhere in the name (`` word `` padded with one space each side, so
  a word's start and end count). Not bound to whole words, this is looser ("leather" finds
  "Feather Pillow" when nothing is named leather; rank then puts closer names first); it needs
  every word to have three characters or more, and folds only ASCII capitals in names
  (SQLite's ``lower``).

Both also take a word of 4 to 16 characters as close when two neighbouring letters of it, swapped, give a
prefix of a word of the name (``base.swaps``: "headlmap" finds "Headlamp", "lantren" "Lantern"), which
trigrams miss (a swap breaks three of them). The swaps are looked up in the full-text index of names
(PostgreSQL's ``tsvector`` at weight A, FTS5's ``name`` column), each word's lookup OR-ed with its trigram
match, and such a word counts ``base.SWAP_SIMILARITY`` close for the rank.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

from shopapp.catalog.search import postgres, sqlite
from shopapp.catalog.search.base import Matcher, Relevance
from shopapp.extensions import db

__all__ = ["MAX_TERMS", "Relevance", "Search", "apply_search", "prepare_search", "search_terms"]

# Bounds on what one request can make the database do: further words are ignored, longer
# ones cut (a cut word is still a prefix of what was typed, so it only matches more).
MAX_TERMS = 16
MAX_TERM_LENGTH = 64

_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
_MATCHERS: dict[str, Matcher] = {**postgres.MATCHERS, **sqlite.MATCHERS}


def search_terms(q: str | None) -> list[str]:
    """The words of ``q`` as typed, split on white space.

    Pieces without a letter or digit (lone operators, quotes, punctuation) are dropped, so a
    ``q`` without any is no search at all. NUL bytes (PostgreSQL text cannot hold them) and
    lone surrogates (they cannot be encoded for either driver) are removed first.
    """
    if not q:
        return []
    cleaned = q.encode("utf-8", "ignore").decode("utf-8").replace("\x00", " ")
    words = (word[:MAX_TERM_LENGTH] for word in cleaned.split())
    return [word for word in words if _LETTER_OR_DIGIT.search(word)][:MAX_TERMS]


@dataclass(frozen=True)
class Search:
    """A search for some words, split in two: the statement depends only on ``shape`` (so one statement,
    built once, serves every search of that shape), the words reach the database as ``params``."""

    shape: tuple[str, Hashable]
    params: dict[str, Any]


def prepare_search(q: str | None, *, typos: bool = False) -> Search | None:
    """The search for ``q``'s words, or None when it has none.

    ``typos`` asks for the typo-tolerant match instead of the exact one; the caller tries it only when
    the exact one finds nothing (catalog/query.py). This is the only place in the app that branches
    on the database.
    """
    terms = search_terms(q)
    if not terms:
        return None
    if db.session.get_bind().dialect.name == "postgresql":
        kind = "pg_trgm" if typos else "tsvector"
    else:
        kind = "fts5_trigram" if typos else "fts5"
    detail, params = _MATCHERS[kind].params(terms)
    return Search((kind, detail), params)


def apply_search(stmt: Select[Any], shape: tuple[str, Hashable] | None) -> tuple[Select[Any], Relevance | None]:
    """Narrow a select of products to those matching a search of this ``shape``, with its relevance
    (higher is better); execute it with the search's ``params``.

    Returns ``stmt`` unchanged and no relevance when there is no search (``None``).
    """
    if shape is None:
        return stmt, None
    kind, detail = shape
    return _MATCHERS[kind].build(stmt, detail)
