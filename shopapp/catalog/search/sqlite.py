"""SQLite's catalog search: FTS5 (migration 0002) and an FTS5 trigram table for typos (0003)."""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    bindparam,
    case,
    column,
    false,
    func,
    literal,
    or_,
    select,
    table,
)

from shopapp.catalog.search.base import Matcher, Relevance, mean, name_first, or_swapped, swaps
from shopapp.products.models import Product
from shopapp.schema import FTS_TABLE, TRIGRAM_TABLE

# The share of a word's trigrams a name must contain to be close to it.
SQLITE_TRIGRAM_SHARE = 0.6

_fts = table(FTS_TABLE, column("rowid", Integer), column(FTS_TABLE))
_trigram = table(TRIGRAM_TABLE, column("rowid", Integer), column(TRIGRAM_TABLE))
# bm25 weights per FTS5 column (name, description): a name hit counts ten times more.
_BM25_WEIGHTS = (10.0, 1.0)


def _fts5_params(terms: list[str]) -> tuple[None, dict[str, str]]:
    fts_query = _fts5_query(terms)
    return None, {"fts_query": fts_query, "fts_names": f"name : ({fts_query})"}


def _fts5_match(stmt: Select[Any], _: None) -> tuple[Select[Any], Relevance]:
    matching = stmt.join(_fts, _fts.c.rowid == Product.id).where(_fts.c[FTS_TABLE].match(bindparam("fts_query")))
    names = _fts.alias(f"{FTS_TABLE}_names")
    in_name = Product.id.in_(select(names.c.rowid).where(names.c[FTS_TABLE].match(bindparam("fts_names"))))
    score = -func.bm25(_fts.c[FTS_TABLE], *_BM25_WEIGHTS, type_=Float)  # bm25 is lower for better matches
    return matching, Relevance((in_name, score), name_first)


def _fts5_trigram_params(terms: list[str]) -> tuple[tuple[tuple[int, bool], ...] | None, dict[str, str]]:
    """The shape is, for every word, the number of its trigrams and whether it has swaps (base.swaps); None: a
    word under three characters, which FTS5 cannot look up. The parameters are the trigrams, each word's FTS5
    query finding its candidates (a trigram of the word's own letters) and its swaps as prefixes of the name."""
    trigrams = [_trigrams(term) for term in terms]
    inner = [[t for t in word if " " not in t] for word in trigrams]
    if not all(inner):
        return None, {}
    params = {f"trigram_{i}_{j}": t for i, word in enumerate(trigrams) for j, t in enumerate(word)}
    shape = []
    for i, term in enumerate(terms):
        params[f"candidates_{i}"] = " OR ".join(_fts5_string(t) for t in inner[i])
        variants = swaps(term)
        if variants:
            params[f"swaps_{i}"] = "name : (" + " OR ".join(_fts5_string(v) + "*" for v in variants) + ")"
        shape.append((len(trigrams[i]), bool(variants)))
    return tuple(shape), params


def _fts5_trigram_match(stmt: Select[Any], words: tuple[tuple[int, bool], ...] | None) -> tuple[Select[Any], Relevance]:
    """Every word shares ``SQLITE_TRIGRAM_SHARE`` of its trigrams with the name, or one of its swaps is a word of
    the name; relevance is the mean closeness.

    FTS5 finds each word's candidates by index (the trigram table, and the name column of the full-text table for
    the swaps), ``instr`` counts the shared trigrams of each candidate.
    """
    if words is None:
        return stmt.where(false()), Relevance((literal(0.0, Float),))
    name = literal(" ") + func.lower(Product.name) + literal(" ")
    conditions: list[ColumnElement[bool]] = []
    closeness: list[ColumnElement[Any]] = []
    for i, (count, swapped) in enumerate(words):
        share: ColumnElement[Any] = reduce(
            operator.add,
            (case((func.instr(name, bindparam(f"trigram_{i}_{j}")) > 0, 1), else_=0) for j in range(count)),
        ) / float(count)
        candidates = select(_trigram.c.rowid).where(_trigram.c[TRIGRAM_TABLE].match(bindparam(f"candidates_{i}")))
        close: ColumnElement[bool] = share >= SQLITE_TRIGRAM_SHARE
        score: ColumnElement[Any] = share
        if swapped:
            swap_rows = select(_fts.c.rowid).where(_fts.c[FTS_TABLE].match(bindparam(f"swaps_{i}")))
            in_name = Product.id.in_(swap_rows)
            candidates = candidates.union(swap_rows)  # type: ignore[assignment]
            close, score = or_(close, in_name), or_swapped(share, in_name)
        conditions += [Product.id.in_(candidates), close]
        closeness.append(score)
    return stmt.where(*conditions), Relevance((mean(closeness),))


def _trigrams(term: str) -> list[str]:
    """The distinct trigrams of `` term `` (lower-cased, one space each side), in order."""
    padded = f" {term.lower()} "
    return list(dict.fromkeys(padded[i : i + 3] for i in range(len(padded) - 2)))


def _fts5_query(terms: list[str]) -> str:
    """``"w1"* AND "w2"*``: each word an FTS5 string matched as a prefix."""
    return " AND ".join(_fts5_string(term) + "*" for term in terms)


def _fts5_string(text: str) -> str:
    """``text`` as an FTS5 string: in double quotes, which are doubled inside."""
    return '"' + text.replace('"', '""') + '"'


MATCHERS = {
    "fts5": Matcher(_fts5_params, _fts5_match),
    "fts5_trigram": Matcher(_fts5_trigram_params, _fts5_trigram_match),
}
