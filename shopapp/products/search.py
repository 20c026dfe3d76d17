"""Catalog full-text search: PostgreSQL ``tsvector`` or SQLite FTS5, behind one function.

The schema comes from migration 0002. Both databases get the same contract: every word of
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
- Scores: ``bm25`` and ``ts_rank_cd`` are different formulas, so the order among products
  of the same group (see ``_relevance``) may differ; the groups themselves do not.
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
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    Text,
    case,
    column,
    false,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from shopapp.extensions import db
from shopapp.products.models import Product

# Bounds on what one request can make the database do: further words are ignored, longer
# ones cut (a cut word is still a prefix of what was typed, so it only matches more).
MAX_TERMS = 16
MAX_TERM_LENGTH = 64

# Names of the objects migration 0002 creates outside the models' metadata.
FTS_TABLE = "product_fts"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_products_search_vector"
# Names of the objects migration 0003 creates for typo tolerance.
TRIGRAM_TABLE = "product_trgm"
TRIGRAM_INDEX = "ix_products_name_trgm"
# SQLite: the share of a word's trigrams a name must contain to be close to it.
SQLITE_TRIGRAM_SHARE = 0.6

_LETTER_OR_DIGIT = re.compile(r"[^\W_]")
# Each dictionary turns a query word into lexemes; a word matches if either does (see migration 0002).
_TS_CONFIGS = ("simple", "english")
_search_vector = literal_column(f"{Product.__tablename__}.{SEARCH_COLUMN}", TSVECTOR)
_fts = table(FTS_TABLE, column("rowid", Integer), column(FTS_TABLE))
_trigram = table(TRIGRAM_TABLE, column("rowid", Integer), column(TRIGRAM_TABLE))
# bm25 weights per FTS5 column (name, description): a name hit counts ten times more.
_BM25_WEIGHTS = (10.0, 1.0)


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


def apply_search(
    stmt: Select[Any], q: str | None, *, typos: bool = False
) -> tuple[Select[Any], ColumnElement[float] | None]:
    """Narrow a select of products to those matching ``q``, with its relevance (higher is better).

    Returns ``stmt`` unchanged and no relevance when ``q`` has no words. ``typos`` asks for the
    typo-tolerant match instead of the exact one; the caller tries it only when the exact one
    finds nothing (products/services.py). This is the only place in the app that branches on the database.
    """
    terms = search_terms(q)
    if not terms:
        return stmt, None
    if db.session.get_bind().dialect.name == "postgresql":
        match = _pg_trgm_match if typos else _tsvector_match
    else:
        match = _fts5_trigram_match if typos else _fts5_match
    return match(stmt, terms)


def _tsvector_match(stmt: Select[Any], terms: list[str]) -> tuple[Select[Any], ColumnElement[float]]:
    query = _tsquery(terms)
    in_name = func.ts_filter(_search_vector, literal_column("'{a}'")).bool_op("@@")(query)
    score = func.ts_rank_cd(_search_vector, query, type_=Float)
    return stmt.where(_search_vector.bool_op("@@")(query)), _relevance(in_name, score)


def _fts5_match(stmt: Select[Any], terms: list[str]) -> tuple[Select[Any], ColumnElement[float]]:
    fts_query = _fts5_query(terms)
    matching = stmt.join(_fts, _fts.c.rowid == Product.id).where(_fts.c[FTS_TABLE].match(fts_query))
    names = _fts.alias(f"{FTS_TABLE}_names")
    in_name = Product.id.in_(select(names.c.rowid).where(names.c[FTS_TABLE].match(f"name : ({fts_query})")))
    score = -func.bm25(_fts.c[FTS_TABLE], *_BM25_WEIGHTS, type_=Float)  # bm25 is lower for better matches
    return matching, _relevance(in_name, score)


def _pg_trgm_match(stmt: Select[Any], terms: list[str]) -> tuple[Select[Any], ColumnElement[float]]:
    """Every word strictly word-similar to the name; relevance is the mean similarity."""
    words = [literal(term, Text) for term in terms]
    close = [word.bool_op("<<%")(Product.name) for word in words]
    similarity = [func.strict_word_similarity(word, Product.name, type_=Float) for word in words]
    return stmt.where(*close), _mean(similarity)


def _fts5_trigram_match(stmt: Select[Any], terms: list[str]) -> tuple[Select[Any], ColumnElement[float]]:
    """Every word shares ``SQLITE_TRIGRAM_SHARE`` of its trigrams with the name; relevance is the mean share.

    FTS5 finds the candidates by index (a trigram of the word's own letters, for every word),
    ``instr`` counts the shared trigrams of each candidate.
    """
    trigrams = [_trigrams(term) for term in terms]
    inner = [[t for t in word if " " not in t] for word in trigrams]
    if not all(inner):  # a word under three characters: FTS5 cannot look it up
        return stmt.where(false()), literal(0.0, Float)
    candidates = " AND ".join("(" + " OR ".join(_fts5_string(t) for t in word) + ")" for word in inner)
    name = literal(" ") + func.lower(Product.name) + literal(" ")
    shares = [
        reduce(operator.add, (case((func.instr(name, t) > 0, 1), else_=0) for t in word)) / float(len(word))
        for word in trigrams
    ]
    matching = stmt.where(
        Product.id.in_(select(_trigram.c.rowid).where(_trigram.c[TRIGRAM_TABLE].match(candidates))),
        *(share >= SQLITE_TRIGRAM_SHARE for share in shares),
    )
    return matching, _mean(shares)


def _trigrams(term: str) -> list[str]:
    """The distinct trigrams of `` term `` (lower-cased, one space each side), in order."""
    padded = f" {term.lower()} "
    return list(dict.fromkeys(padded[i : i + 3] for i in range(len(padded) - 2)))


def _mean(values: list[ColumnElement[float]]) -> ColumnElement[float]:
    return reduce(operator.add, values) / float(len(values))


def _relevance(in_name: ColumnElement[bool], score: ColumnElement[float]) -> ColumnElement[float]:
    """1 + s when the name alone matches every word, else s; s is the database's score squashed into [0, 1).

    ts_rank_cd and bm25 both grow with repetitions, so without this a description saying
    "tea" ten times could outrank a product named "Tea"; the weights (name A / 10, description
    B / 1) still order products within each group.
    """
    return case((in_name, 1.0), else_=0.0) + score / (score + 1.0)


def _tsquery(terms: list[str]) -> ColumnElement[Any]:
    """``(simple 'w1':* || english 'w1':*) && ...``: each word a quoted prefix, all required.

    Inside quotes only the quote and the backslash are special; both are escaped. A word
    that yields no lexeme (an english stop word) drops out of its ``||`` silently.
    """

    def either_config(term: str) -> ColumnElement[Any]:
        quoted = "'" + term.replace("\\", "\\\\").replace("'", "''") + "':*"
        lexemes = [func.to_tsquery(config, quoted) for config in _TS_CONFIGS]
        return reduce(lambda a, b: a.op("||", return_type=TSQUERY)(b), lexemes)

    return reduce(lambda a, b: a.op("&&", return_type=TSQUERY)(b), map(either_config, terms))


def _fts5_query(terms: list[str]) -> str:
    """``"w1"* AND "w2"*``: each word an FTS5 string matched as a prefix."""
    return " AND ".join(_fts5_string(term) + "*" for term in terms)


def _fts5_string(text: str) -> str:
    """``text`` as an FTS5 string: in double quotes, which are doubled inside."""
    return '"' + text.replace('"', '""') + '"'


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic hook, used by migrations/env.py and the drift test: skip the search objects.

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
