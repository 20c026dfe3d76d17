"""The sitemap (sitemaps.org protocol 0.9): every page customers can reach from the catalog, streamed.

Four sections: ``pages`` (the catalog and the shops list), then the categories, the shops customers see and the
products the catalog shows (``catalog_products``: active, not deleted, in an active shop that is not deleted).
Up to ``SITEMAP_URLS_PER_FILE`` addresses in all (the protocol's limit is 50 000), ``/sitemap.xml`` lists them
itself; past that it is an index of ``/sitemaps/<section>-<n>.xml`` files, file ``n`` of a section holding its
rows with ids in ``((n - 1) * limit, n * limit]``, so no file passes the limit and a file's rows are found by the
primary key alone (never ``OFFSET``). Rows are read in keyset batches of ``BATCH`` (id, slug, updated_at only, no
ORM objects) and written out as they come; each address is built once by ``url_for`` (absolute: the configured
server name, or the request's scheme and host as ProxyFix gives them) and copied for every row.

A file's validator (``Listing.fingerprint``) is the count, id sum and latest ``updated_at`` of its rows: a row
that changes, appears or goes away changes it, so a crawler revalidating gets a 304 without the file being built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from flask import current_app, url_for
from sqlalchemy import ColumnElement, Select, bindparam, func, select

from shopapp.catalog.query import catalog_products
from shopapp.categories.models import Category
from shopapp.core.validation import ID_MAX
from shopapp.extensions import db
from shopapp.products.models import Product
from shopapp.shops.models import Shop
from shopapp.shops.services import live_shops

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
BATCH = 5_000
PAGES = ("catalog.index", "catalog.shops")
_PLACEHOLDER_ID, _PLACEHOLDER_SLUG = 2_000_000_001, "sitemap-slug"


@dataclass(frozen=True)
class Section:
    """Rows with their own page: the statement selecting (id, slug, updated_at) of those customers can see."""

    name: str
    endpoint: str
    rows: Callable[[], Any]  # a Select of (id, slug, updated_at)
    model: Any  # its ``id`` keys the files and the batches

    @property
    def id(self) -> ColumnElement[int]:
        return self.model.id


SECTIONS = {
    section.name: section
    for section in (
        Section(
            "categories",
            "catalog.category",
            lambda: select(Category.id, Category.slug, Category.updated_at),
            Category,
        ),
        Section(
            "shops",
            "catalog.shop",
            lambda: live_shops().with_only_columns(Shop.id, Shop.slug, Shop.updated_at),
            Shop,
        ),
        Section(
            "products",
            "catalog.product",
            lambda: catalog_products().with_only_columns(Product.id, Product.slug, Product.updated_at),
            Product,
        ),
    )
}
FILES = ("pages", *SECTIONS)


@dataclass(frozen=True)
class Listing:
    """The rows of ``section`` with ids in (``after``, ``upto``]."""

    section: Section
    after: int = 0
    upto: int = ID_MAX

    def _where(self, stmt: Select[Any]) -> Select[Any]:
        return stmt.where(self.section.id > self.after, self.section.id <= self.upto)

    def fingerprint(self) -> tuple[int, int, datetime | None]:
        """(how many rows, the sum of their ids, the latest ``updated_at``)."""
        rows = self._where(self.section.rows()).subquery()
        count, total, latest = db.session.execute(
            select(func.count(), func.coalesce(func.sum(rows.c.id), 0), func.max(rows.c.updated_at))
        ).one()
        return count, int(total), latest

    def batches(self) -> Iterator[Sequence[Any]]:
        """The rows in id order, ``BATCH`` at a time, each batch starting after the last id of the one before."""
        stmt = self._where(self.section.rows()).where(self.section.id > bindparam("start")).order_by(self.section.id)
        start = self.after
        while rows := db.session.execute(stmt.limit(BATCH), {"start": start}).all():
            yield rows
            start = rows[-1][0]


def file_listing(name: str, number: int, per_file: int) -> Listing | None:
    """File ``number`` of a section (None for ``pages``, which has one file), or None past the last possible id."""
    after = (number - 1) * per_file
    if after >= ID_MAX:
        return None
    return Listing(SECTIONS[name], after, min(number * per_file, ID_MAX))


def more_than(limit: int) -> bool:
    """Whether the whole sitemap has more than ``limit`` addresses (counting no further than that)."""
    left = limit - len(PAGES)
    for section in SECTIONS.values():
        if left < 0:
            return True
        found = db.session.scalar(select(func.count()).select_from(section.rows().limit(left + 1).subquery()))
        left -= found or 0
    return left < 0


def file_numbers(section: Section, per_file: int) -> Iterator[int]:
    """The numbers of the section's files that hold a row: one index probe a file (the first id past the last)."""
    first_after = section.rows().with_only_columns(section.id).where(section.id > bindparam("after"))
    first_after = first_after.order_by(section.id).limit(1)
    after = 0
    while (first := db.session.scalar(first_after, {"after": after})) is not None:
        number = (first - 1) // per_file + 1
        yield number
        after = number * per_file


def etag(*parts: Any) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


# Writing the XML.


def _lastmod(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _url(location: str, lastmod: datetime | None = None) -> str:
    modified = f"<lastmod>{_lastmod(lastmod)}</lastmod>" if lastmod is not None else ""
    return f"<url><loc>{escape(location)}</loc>{modified}</url>\n"


def _address_maker(endpoint: str) -> Callable[[int, str], str]:
    """A function of (id, slug) giving the page's absolute address, ``url_for`` called once: a slug is made of
    ``[a-z0-9-]`` (core/text.py ``slugify``), which ``url_for`` would not quote either."""
    sample = url_for(endpoint, ident=_PLACEHOLDER_ID, slug=_PLACEHOLDER_SLUG, _external=True)
    before, after = sample.split(f"{_PLACEHOLDER_ID}-{_PLACEHOLDER_SLUG}", 1)
    return lambda ident, slug: f"{before}{ident}-{slug}{after}"


_URLSET_OPEN = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NAMESPACE}">\n'
_URLSET_CLOSE = "</urlset>\n"


def urlset(listings: list[Listing], *, with_pages: bool) -> Iterator[str]:
    """The ``<urlset>`` of the pages (if asked) and the listings' rows, in chunks of a batch.

    Called in the request (the addresses are the request's); what it returns is a generator that only reads the
    database as it is iterated, inside an app context of its own: a body that is never read (a HEAD, a client
    gone) holds no context and no connection.
    """
    pages = "".join(_url(url_for(endpoint, _external=True)) for endpoint in PAGES) if with_pages else ""
    parts = [(listing, _address_maker(listing.section.endpoint)) for listing in listings]
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def chunks() -> Iterator[str]:
        yield _URLSET_OPEN + pages
        with app.app_context():
            for listing, address in parts:
                for rows in listing.batches():
                    yield "".join(_url(address(ident, slug), updated_at) for ident, slug, updated_at in rows)
        yield _URLSET_CLOSE

    return chunks()


def sitemap_index(locations: list[str]) -> str:
    entries = "".join(f"<sitemap><loc>{escape(location)}</loc></sitemap>\n" for location in locations)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NAMESPACE}">\n{entries}</sitemapindex>\n'
