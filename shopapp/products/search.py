"""Catalog full-text search: PostgreSQL ``tsvector`` or SQLite FTS5, behind ``prepare_search`` (the words
as parameters, and the shape of the statement) and ``apply_search`` (the statement for that shape).

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
- Scores: ``bm25`` and ``ts_rank`` are different formulas, so the order among products
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
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Text,
    bindparam,
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
_NAME_WEIGHT = "A"  # migration 0002 gives the name's lexemes weight A, the description's B
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


def _as_is(rank: ColumnElement[float]) -> ColumnElement[float]:
    return rank


class Relevance(NamedTuple):
    """A match's relevance (higher is better) in two steps, so each part is computed once a row: ``parts``
    from the row, then ``of`` combines them (given as the columns of a subquery that computed them)."""

    parts: tuple[ColumnElement[Any], ...]
    of: Callable[..., ColumnElement[float]] = _as_is


class _Matcher(NamedTuple):
    """One way to match words: ``params`` splits them into the statement's shape and its parameters' values,
    ``build`` makes the statement for a shape (with those parameters, never the words themselves)."""

    params: Callable[[list[str]], tuple[Hashable, dict[str, Any]]]
    build: Callable[[Select[Any], Any], tuple[Select[Any], Relevance]]


@dataclass(frozen=True)
class Search:
    """A search for some words, split in two: the statement depends only on ``shape`` (so one statement,
    built once, serves every search of that shape), the words reach the database as ``params``."""

    shape: tuple[str, Hashable]
    params: dict[str, Any]


def prepare_search(q: str | None, *, typos: bool = False) -> Search | None:
    """The search for ``q``'s words, or None when it has none.

    ``typos`` asks for the typo-tolerant match instead of the exact one; the caller tries it only when
    the exact one finds nothing (products/services.py). This is the only place in the app that branches
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


def _word(index: int, type_: Any = None, kind: str = "word") -> BindParameter[Any]:
    return bindparam(f"{kind}_{index}", type_=type_)


def _each_word(terms: list[str], kind: str = "word") -> tuple[int, dict[str, str]]:
    return len(terms), {f"{kind}_{i}": term for i, term in enumerate(terms)}


def _tsvector_params(terms: list[str]) -> tuple[int, dict[str, str]]:
    count, words = _each_word([_tsquery_word(term) for term in terms])
    _, name_words = _each_word([_tsquery_word(term, _NAME_WEIGHT) for term in terms], "name_word")
    return count, words | name_words


def _tsvector_match(stmt: Select[Any], count: int) -> tuple[Select[Any], Relevance]:
    """``in_name`` asks for every word with the name's weight: the same as matching the vector's name
    part alone (``ts_filter``), without building that part for every row. The score is ``ts_rank``, not
    ``ts_rank_cd``: cover density would also reward a query's words standing close together, but for the
    1 000 sampled matches of a common word it took 2.8 ms of the database's time against 0.1 ms."""
    query = _tsquery(count)
    in_name = _search_vector.bool_op("@@")(_tsquery(count, "name_word"))
    score = func.ts_rank(_search_vector, query, type_=Float)
    return stmt.where(_search_vector.bool_op("@@")(query)), Relevance((in_name, score), _relevance)


def _fts5_params(terms: list[str]) -> tuple[None, dict[str, str]]:
    fts_query = _fts5_query(terms)
    return None, {"fts_query": fts_query, "fts_names": f"name : ({fts_query})"}


def _fts5_match(stmt: Select[Any], _: None) -> tuple[Select[Any], Relevance]:
    matching = stmt.join(_fts, _fts.c.rowid == Product.id).where(_fts.c[FTS_TABLE].match(bindparam("fts_query")))
    names = _fts.alias(f"{FTS_TABLE}_names")
    in_name = Product.id.in_(select(names.c.rowid).where(names.c[FTS_TABLE].match(bindparam("fts_names"))))
    score = -func.bm25(_fts.c[FTS_TABLE], *_BM25_WEIGHTS, type_=Float)  # bm25 is lower for better matches
    return matching, Relevance((in_name, score), _relevance)


def _pg_trgm_match(stmt: Select[Any], count: int) -> tuple[Select[Any], Relevance]:
    """Every word strictly word-similar to the name; relevance is the mean similarity."""
    words = [_word(i, Text) for i in range(count)]
    close = [word.bool_op("<<%")(Product.name) for word in words]
    similarity = [func.strict_word_similarity(word, Product.name, type_=Float) for word in words]
    return stmt.where(*close), Relevance((_mean(similarity),))


def _fts5_trigram_params(terms: list[str]) -> tuple[tuple[int, ...] | None, dict[str, str]]:
    """The shape is the number of trigrams of each word (None: a word under three characters, which
    FTS5 cannot look up); the parameters are the trigrams and the FTS5 query finding the candidates,
    a trigram of the word's own letters, for every word."""
    trigrams = [_trigrams(term) for term in terms]
    inner = [[t for t in word if " " not in t] for word in trigrams]
    if not all(inner):
        return None, {}
    params = {f"trigram_{i}_{j}": t for i, word in enumerate(trigrams) for j, t in enumerate(word)}
    params["candidates"] = " AND ".join("(" + " OR ".join(_fts5_string(t) for t in word) + ")" for word in inner)
    return tuple(map(len, trigrams)), params


def _fts5_trigram_match(stmt: Select[Any], counts: tuple[int, ...] | None) -> tuple[Select[Any], Relevance]:
    """Every word shares ``SQLITE_TRIGRAM_SHARE`` of its trigrams with the name; relevance is the mean share.

    FTS5 finds the candidates by index, ``instr`` counts the shared trigrams of each candidate.
    """
    if counts is None:
        return stmt.where(false()), Relevance((literal(0.0, Float),))
    name = literal(" ") + func.lower(Product.name) + literal(" ")
    shares = [
        reduce(
            operator.add,
            (case((func.instr(name, bindparam(f"trigram_{i}_{j}")) > 0, 1), else_=0) for j in range(count)),
        )
        / float(count)
        for i, count in enumerate(counts)
    ]
    matching = stmt.where(
        Product.id.in_(select(_trigram.c.rowid).where(_trigram.c[TRIGRAM_TABLE].match(bindparam("candidates")))),
        *(share >= SQLITE_TRIGRAM_SHARE for share in shares),
    )
    return matching, Relevance((_mean(shares),))


_MATCHERS = {
    "tsvector": _Matcher(_tsvector_params, _tsvector_match),
    "fts5": _Matcher(_fts5_params, _fts5_match),
    "pg_trgm": _Matcher(_each_word, _pg_trgm_match),
    "fts5_trigram": _Matcher(_fts5_trigram_params, _fts5_trigram_match),
}


def _trigrams(term: str) -> list[str]:
    """The distinct trigrams of `` term `` (lower-cased, one space each side), in order."""
    padded = f" {term.lower()} "
    return list(dict.fromkeys(padded[i : i + 3] for i in range(len(padded) - 2)))


def _mean(values: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    return reduce(operator.add, values) / float(len(values))


def _relevance(in_name: ColumnElement[bool], score: ColumnElement[float]) -> ColumnElement[float]:
    """1 + s when the name alone matches every word, else s; s is the database's score squashed into [0, 1).

    ts_rank and bm25 both grow with repetitions, so without this a description saying
    "tea" ten times could outrank a product named "Tea"; the weights (name A / 10, description
    B / 1) still order products within each group.
    """
    return case((in_name, 1.0), else_=0.0) + score / (score + 1.0)


def _tsquery_word(term: str, weight: str = "") -> str:
    """``'word':*``, a quoted prefix (``weight``: of that weight only); inside quotes only the quote and the
    backslash are special, both are escaped."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "':*" + weight


def _tsquery(count: int, kind: str = "word") -> ColumnElement[Any]:
    """``(simple 'w1':* || english 'w1':*) && ...``: each word (the ``kind`` parameters, see ``_tsquery_word``)
    a prefix, all required. A word that yields no lexeme (an english stop word) drops out of its ``||`` silently.
    """

    def either_config(index: int) -> ColumnElement[Any]:
        lexemes = [func.to_tsquery(config, _word(index, String, kind)) for config in _TS_CONFIGS]
        return reduce(lambda a, b: a.op("||", return_type=TSQUERY)(b), lexemes)

    return reduce(lambda a, b: a.op("&&", return_type=TSQUERY)(b), map(either_config, range(count)))


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
