"""What both databases' searches are made of: a ``Relevance``, a ``Matcher`` (the words as parameters, and the
statement for their shape), and the helpers both use to name parameters and combine scores."""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Sequence
from functools import reduce
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, case


def _as_is(rank: ColumnElement[float]) -> ColumnElement[float]:
    return rank


class Relevance(NamedTuple):
    """A match's relevance (higher is better) in two steps, so each part is computed once a row: ``parts``
    from the row, then ``of`` combines them (given as the columns of a subquery that computed them)."""

    parts: tuple[ColumnElement[Any], ...]
    of: Callable[..., ColumnElement[float]] = _as_is


class Matcher(NamedTuple):
    """One way to match words: ``params`` splits them into the statement's shape and its parameters' values,
    ``build`` makes the statement for a shape (with those parameters, never the words themselves)."""

    params: Callable[[list[str]], tuple[Hashable, dict[str, Any]]]
    build: Callable[[Select[Any], Any], tuple[Select[Any], Relevance]]


# Two neighbouring letters typed the other way round ("headlmap"): trigram closeness misses it (a swap breaks
# three trigrams), so in words of these lengths every such swap is also looked up as an exact prefix of a name
# word; a name found that way counts as ``SWAP_SIMILARITY`` close to the word (one missing letter is ~0.5-0.7).
SWAP_LENGTHS = range(4, 17)
SWAP_SIMILARITY = 0.75


def swaps(term: str) -> list[str]:
    """The distinct words ``term`` becomes with two neighbouring characters exchanged (none outside
    ``SWAP_LENGTHS``; lower-cased, as both indexes fold case)."""
    term = term.lower()
    if len(term) not in SWAP_LENGTHS:
        return []
    found = (term[:i] + term[i + 1] + term[i] + term[i + 2 :] for i in range(len(term) - 1))
    return [variant for variant in dict.fromkeys(found) if variant != term]


def or_swapped(score: ColumnElement[Any], swapped: ColumnElement[bool]) -> ColumnElement[float]:
    """A word's closeness to the name: ``score``, raised to ``SWAP_SIMILARITY`` when a swap of it is in the name."""
    return case((and_(swapped, score < SWAP_SIMILARITY), SWAP_SIMILARITY), else_=score)


def word(index: int, type_: Any = None, kind: str = "word") -> BindParameter[Any]:
    return bindparam(f"{kind}_{index}", type_=type_)


def each_word(terms: list[str], kind: str = "word") -> tuple[int, dict[str, str]]:
    return len(terms), {f"{kind}_{i}": term for i, term in enumerate(terms)}


def mean(values: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    return reduce(operator.add, values) / float(len(values))


def name_first(in_name: ColumnElement[bool], score: ColumnElement[float]) -> ColumnElement[float]:
    """1 + s when the name alone matches every word, else s; s is the database's score squashed into [0, 1).

    ts_rank and bm25 both grow with repetitions, so without this a description saying
    "tea" ten times could outrank a product named "Tea"; the weights (name A / 10, description
    B / 1) still order products within each group.
    """
    return case((in_name, 1.0), else_=0.0) + score / (score + 1.0)
