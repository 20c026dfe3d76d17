"""PostgreSQL's catalog search: ``tsvector`` (migration 0002) and pg_trgm's word similarity for typos (0003)."""

from __future__ import annotations

from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, String, Text, func, literal_column, or_
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from shopapp.catalog.search.base import Matcher, Relevance, each_word, mean, name_first, or_swapped, swaps, word
from shopapp.products.models import Product
from shopapp.schema import SEARCH_COLUMN

# Each dictionary turns a query word into lexemes; a word matches if either does (see migration 0002).
_TS_CONFIGS = ("simple", "english")
_NAME_WEIGHT = "A"  # migration 0002 gives the name's lexemes weight A, the description's B
_search_vector = literal_column(f"{Product.__tablename__}.{SEARCH_COLUMN}", TSVECTOR)


def _tsvector_params(terms: list[str]) -> tuple[int, dict[str, str]]:
    count, words = each_word([_tsquery_word(term) for term in terms])
    _, name_words = each_word([_tsquery_word(term, _NAME_WEIGHT) for term in terms], "name_word")
    return count, words | name_words


def _tsvector_match(stmt: Select[Any], count: int) -> tuple[Select[Any], Relevance]:
    """``in_name`` asks for every word with the name's weight: the same as matching the vector's name
    part alone (``ts_filter``), without building that part for every row. The score is ``ts_rank``, not
    ``ts_rank_cd``: cover density would also reward a query's words standing close together, at many
    times the cost for the sampled matches of a common word."""
    query = _tsquery(count)
    in_name = _search_vector.bool_op("@@")(_tsquery(count, "name_word"))
    score = func.ts_rank(_search_vector, query, type_=Float)
    return stmt.where(_search_vector.bool_op("@@")(query)), Relevance((in_name, score), name_first)


def _pg_trgm_params(terms: list[str]) -> tuple[tuple[bool, ...], dict[str, str]]:
    """The shape says which words have swaps (base.swaps); each of those gets a tsquery of them, every one a
    prefix of a word of the name (weight A), any one enough."""
    _, params = each_word(terms)
    swapped = [swaps(term) for term in terms]
    for i, variants in enumerate(swapped):
        if variants:
            params[f"swaps_{i}"] = " | ".join(_tsquery_word(variant, _NAME_WEIGHT) for variant in variants)
    return tuple(map(bool, swapped)), params


def _pg_trgm_match(stmt: Select[Any], has_swaps: tuple[bool, ...]) -> tuple[Select[Any], Relevance]:
    """Every word strictly word-similar to the name, or one swap away from a word of it (the tsvector's GIN
    index finds those); relevance is the mean closeness."""
    close: list[ColumnElement[bool]] = []
    closeness: list[ColumnElement[float]] = []
    for i, swapped in enumerate(has_swaps):
        typed = word(i, Text)
        similar: ColumnElement[bool] = typed.bool_op("<<%")(Product.name)
        similarity: ColumnElement[float] = func.strict_word_similarity(typed, Product.name, type_=Float)
        if swapped:
            in_name = _search_vector.bool_op("@@")(func.to_tsquery("simple", word(i, String, "swaps")))
            similar, similarity = or_(similar, in_name), or_swapped(similarity, in_name)
        close.append(similar)
        closeness.append(similarity)
    return stmt.where(*close), Relevance((mean(closeness),))


def _tsquery_word(term: str, weight: str = "") -> str:
    """``'word':*``, a quoted prefix (``weight``: of that weight only); inside quotes only the quote and the
    backslash are special, both are escaped."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "':*" + weight


def _tsquery(count: int, kind: str = "word") -> ColumnElement[Any]:
    """``(simple 'w1':* || english 'w1':*) && ...``: each word (the ``kind`` parameters, see ``_tsquery_word``)
    a prefix, all required. A word that yields no lexeme (an english stop word) drops out of its ``||`` silently.
    """

    def either_config(index: int) -> ColumnElement[Any]:
        lexemes = [func.to_tsquery(config, word(index, String, kind)) for config in _TS_CONFIGS]
        return reduce(lambda a, b: a.op("||", return_type=TSQUERY)(b), lexemes)

    return reduce(lambda a, b: a.op("&&", return_type=TSQUERY)(b), map(either_config, range(count)))


MATCHERS = {
    "tsvector": Matcher(_tsvector_params, _tsvector_match),
    "pg_trgm": Matcher(_pg_trgm_params, _pg_trgm_match),
}
