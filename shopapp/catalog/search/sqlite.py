"""SQLite's catalog search: FTS5 (migration 0002) and an FTS5 trigram table for typos (0003)."""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from sqlalchemy import Float, Integer, Select, bindparam, case, column, false, func, literal, select, table

from shopapp.catalog.search.base import Matcher, Relevance, mean, name_first
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
    return matching, Relevance((mean(shares),))


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
