"""Products: creation, edits with optimistic locking, soft delete, stock, and who may see or change one.

The catalog reads them through catalog/query.py."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from functools import cache
from typing import Any

from flask import g, has_app_context
from sqlalchemy import Select, bindparam, event, func, or_, select, update
from sqlalchemy.orm import Session, SessionTransaction, joinedload
from sqlalchemy.orm.exc import StaleDataError

from shopapp.auth.models import User
from shopapp.categories.models import Category
from shopapp.core import validation
from shopapp.core.db import STATUSES, by_status, integrity_as, utcnow
from shopapp.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotDeleted,
    NotFound,
    PreconditionFailed,
    Problems,
    gathering,
)
from shopapp.core.pagination import DEFAULT_PER_PAGE, Page, paginate
from shopapp.core.text import like_pattern, slugify
from shopapp.extensions import db
from shopapp.products.models import MAX_STOCK, Product
from shopapp.shops.models import Shop

NOT_FOUND = "No such product."
NOT_DELETED = "This product is not deleted."
NAME_TAKEN = "This shop already has a product with this name."
SKU_TAKEN = "This shop already has a product with this SKU."
CHANGED_MEANWHILE = "The product was changed meanwhile; reload it and try again."
STOCK_OUT_OF_RANGE = f"Stock would leave the range 0 to {MAX_STOCK}."

_ID = validation.ID_MAX
# Each field's rule. Page forms and the API also check by it the fields they could read when others were not
# even of the right type, so that one answer names every problem.
FIELDS: validation.Rules = {
    "name": validation.name,
    "sku": validation.sku,
    "description": lambda v: validation.text(v, "description"),
    "price": validation.price,
    "stock": lambda v: validation.bounded_int(v, "stock", 0, MAX_STOCK),
    "is_active": lambda v: validation.boolean(v, "is_active"),
    "category_id": lambda v: None if v is None else validation.bounded_int(v, "category_id", 1, _ID),
    "shop_id": lambda v: validation.bounded_int(v, "shop_id", 1, _ID),
}
# A stock change's rule: the API's body and the dashboard's stock form are checked by it too.
STOCK_CHANGE: validation.Rules = {"delta": lambda v: validation.bounded_int(v, "delta", -MAX_STOCK, MAX_STOCK)}


def with_relations(stmt: Select[Any]) -> Select[Any]:
    """Products with their shop, category and images, in the same query (a page's LIMIT stays on products:
    SQLAlchemy joins the images to the limited rows); the rows are then ``unique()``."""
    return stmt.options(joinedload(Product.shop), joinedload(Product.category), joinedload(Product.images))


_READ = "products_read"  # g: {id: (product, locked)} read in this request and transaction


def _load(product_id: int, *, lock: bool = False) -> Product | None:
    """One product with its relations, read once per request: the view, the ownership check and the service
    that writes it share the copy (``lock``: ``SELECT ... FOR UPDATE``, read again unless this transaction
    holds the lock already). The copies go with the request's ``g`` and whenever a transaction ends."""
    read: dict[int, tuple[Product, bool]] = g.setdefault(_READ, {})
    known = read.get(product_id)
    if known is not None and (known[1] or not lock):
        return known[0]
    stmt = _load_statement()
    if lock:
        stmt = stmt.with_for_update(of=Product).execution_options(populate_existing=True)
    product = db.session.scalars(stmt, {"product_id": product_id}).unique().one_or_none()
    if product is not None:
        read[product_id] = (product, lock)
    return product


@event.listens_for(Session, "after_transaction_end")
def _forget_read(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and has_app_context():  # the locks end with it, the copies may go stale
        g.pop(_READ, None)


@cache
def _load_statement() -> Select[Product]:
    """One product by its ``product_id`` parameter, with its relations: built once."""
    return with_relations(select(Product).where(Product.id == bindparam("product_id")))


def get_visible_product(product_id: int, viewer: User | None = None) -> Product:
    """A product as customers see it; its owner also sees it while it or its shop is inactive."""
    product = _load(product_id)
    if product is None or product.deleted_at is not None or product.shop.deleted_at is not None:
        raise NotFound(NOT_FOUND)
    is_owner = viewer is not None and product.shop.owner_id == viewer.id
    if not (product.is_active and product.shop.is_active) and not is_owner:
        raise NotFound(NOT_FOUND)
    return product


def get_owned_product(user: User, product_id: int, *, deleted: bool | None = False, lock: bool = False) -> Product:
    """The caller's own product, or NotFound / Forbidden; ``deleted=True`` asks for a soft-deleted one, ``None``
    for one deleted or not. Either way its shop is not deleted. ``lock``: see ``lock_owned_product`` (a page
    that writes locks at once, so the service's own lock finds it held and the product is read once)."""
    product = _load(product_id, lock=lock)
    if product is None or product.shop.deleted_at is not None:
        raise NotFound(NOT_FOUND)
    if product.shop.owner_id != user.id:
        visible = product.deleted_at is None and product.is_active and product.shop.is_active
        if visible:
            raise Forbidden("This product belongs to someone else's shop.")
        raise NotFound(NOT_FOUND)
    if deleted is not None and (product.deleted_at is not None) != deleted:
        raise NotFound(NOT_FOUND)
    return product


def lock_owned_product(user: User, product_id: int, *, deleted: bool | None = False) -> Product:
    """``get_owned_product``, with the row locked until the transaction ends (``SELECT ... FOR UPDATE``).

    Writers of one product then take turns, each reading the row as the one before it left it: a delete that
    waited for another delete finds the product gone (404), an edit without ``If-Match`` saves over the edit it
    waited for (last write wins), and the version the ORM's UPDATE checks is current, so neither meets a
    ``StaleDataError``. Image writes (media/services.py) take the same lock, so concurrent uploads count a
    product's images right. (SQLite has no row locks; it lets one writer in at a time anyway.)
    """
    return get_owned_product(user, product_id, deleted=deleted, lock=True)


def _target_shop(user: User, shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.deleted_at is not None:
        raise Invalid("refers to a shop that does not exist", "shop_id")
    if shop.owner_id != user.id:
        raise Forbidden("You can only put products in your own shops.", "shop_id")
    return shop


def _check_category(category_id: int | None) -> None:
    if category_id is not None and db.session.get(Category, category_id) is None:
        raise Invalid("refers to a category that does not exist", "category_id")


def _check_references(user: User, problems: Problems, *, shop_id: int | None, category_id: int | None) -> None:
    """The shop and the category named (None: none, or no change) exist, each problem into ``problems``; the
    shop is the caller's own (Forbidden at once: no other field matters then)."""
    if shop_id is not None:
        with problems.check():
            _target_shop(user, shop_id)
    with problems.check():
        _check_category(category_id)


def _sku_free(shop_id: int, sku: str | None, *, other_than: int | None = None, message: str = SKU_TAKEN) -> None:
    """Conflict if another live product of the shop has ``sku`` in any case; the unique index
    ``uq_products_sku_shop_live`` says the same to a writer that raced past this check (``_unique``)."""
    if sku is None:
        return
    stmt = select(Product.id).where(
        Product.shop_id == shop_id, func.lower(Product.sku) == sku.lower(), Product.deleted_at.is_(None)
    )
    if other_than is not None:
        stmt = stmt.where(Product.id != other_than)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise Conflict(message, "sku")


def _unique(name_taken: str = NAME_TAKEN, sku_taken: str = SKU_TAKEN) -> AbstractContextManager[None]:
    """Flush in a savepoint; a clash on either unique index of live products is that field's 409."""
    return integrity_as(
        Conflict(name_taken, "name"), by_constraint={"uq_products_sku_shop_live": Conflict(sku_taken, "sku")}
    )


def create_product(user: User, data: Mapping[str, Any]) -> Product:
    with gathering() as problems:
        fields = validation.clean_fields(data, FIELDS, problems, required=("shop_id", "name", "price", "stock"))
        _check_references(user, problems, shop_id=fields.get("shop_id"), category_id=fields.get("category_id"))
    _sku_free(fields["shop_id"], fields.get("sku"))
    product = Product(slug=slugify(fields["name"]), **fields)
    with _unique():
        db.session.add(product)
    return _load(product.id)  # type: ignore[return-value]


def update_product(
    user: User, product_id: int, changes: Mapping[str, Any], *, expected_version: int | None = None
) -> Product:
    """Apply ``changes``; with ``expected_version`` refuse an edit made from a stale copy, without it the last
    write wins."""
    product = lock_owned_product(user, product_id)
    if expected_version is not None and expected_version != product.version:
        raise PreconditionFailed(CHANGED_MEANWHILE)
    with gathering() as problems:
        fields = validation.clean_fields(changes, FIELDS, problems)
        shop_id = fields.get("shop_id", product.shop_id)
        moved_to = None if shop_id == product.shop_id else shop_id
        _check_references(user, problems, shop_id=moved_to, category_id=fields.get("category_id"))
    if fields.keys() & {"sku", "shop_id"}:
        _sku_free(shop_id, fields.get("sku", product.sku), other_than=product.id)
    try:
        with _unique():
            for key, value in fields.items():
                setattr(product, key, value)
            if "name" in fields:
                product.slug = slugify(fields["name"])
    except StaleDataError as exc:  # not expected under the row lock; never 412 for an edit that set no version
        refusal = PreconditionFailed if expected_version is not None else Conflict
        raise refusal(CHANGED_MEANWHILE) from exc
    if fields.keys() & {"shop_id", "category_id"}:
        # A changed foreign key leaves the loaded shop/category behind; nothing else needs reloading.
        db.session.refresh(product, ["shop", "category"])
    return product


def delete_product(user: User, product_id: int) -> Product:
    product = lock_owned_product(user, product_id)
    product.deleted_at = utcnow()
    db.session.flush()
    return product


def restore_product(user: User, product_id: int) -> Product:
    """Bring a soft-deleted product back; refused while a live product has taken its name or its SKU, and when
    it is not deleted (restored meanwhile, say)."""
    product = lock_owned_product(user, product_id, deleted=None)
    if product.deleted_at is None:
        raise NotDeleted(NOT_DELETED)
    sku_taken = SKU_TAKEN + " Change that one's SKU first."
    _sku_free(product.shop_id, product.sku, other_than=product.id, message=sku_taken)
    with _unique(NAME_TAKEN + " Rename that one first.", sku_taken):
        product.deleted_at = None
    return product


def adjust_stock(user: User, product_id: int, delta: int) -> Product:
    """Add ``delta`` to the stock in one atomic UPDATE; refuse to leave 0 … MAX_STOCK."""
    delta = STOCK_CHANGE["delta"](delta)
    product = get_owned_product(user, product_id)
    result = db.session.execute(
        update(Product)
        .where(Product.id == product.id, Product.stock + delta >= 0, Product.stock + delta <= MAX_STOCK)
        .values(stock=Product.stock + delta, version=Product.version + 1, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(STOCK_OUT_OF_RANGE, "delta")
    db.session.refresh(product)
    return product


# The orders of the owner's products table: each key, and "-key" for the reverse, then by id.
OWNER_SORTS: dict[str, Any] = {
    "name": Product.name,
    "price": Product.price,
    "stock": Product.stock,
    "updated": Product.updated_at,
}


def owner_sort(sort: str) -> list[Any]:
    """The ORDER BY of ``sort`` (a key of ``OWNER_SORTS``, "-" first for descending); anything else is refused."""
    column = OWNER_SORTS.get(sort.removeprefix("-"))
    if column is None:
        choices = ", ".join(f"{key}, -{key}" for key in OWNER_SORTS)
        raise Invalid(f"must be one of {choices}", "sort")
    if sort.startswith("-"):
        return [column.desc(), Product.id.desc()]
    return [column, Product.id]


def list_user_products(
    user: User,
    *,
    status: str = "active",
    shop_id: int | None = None,
    q: str | None = None,
    sku: str | None = None,
    sort: str = "name",
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page[Product]:
    """The owner's products across their (not deleted) shops, by status, optionally by name or SKU, in ``sort``
    order; each with its shop, category and images in the same query (the table's thumbnails)."""
    stmt = owned_products(user, status=status, shop_id=shop_id, q=q, sku=sku)
    return paginate(with_relations(stmt.order_by(*owner_sort(sort))), page, per_page)


def owned_products(
    user: User, *, status: str = "active", shop_id: int | None = None, q: str | None = None, sku: str | None = None
) -> Select[Product]:
    """The owner's products across their (not deleted) shops, by status; ``q``: part of the name (or the SKU
    itself), ``sku``: that SKU exactly, in any case. The dashboard's table and its CSV export read through it."""
    if status not in STATUSES:
        raise Invalid(f"must be one of {', '.join(STATUSES)}", "status")
    stmt = select(Product).join(Product.shop).where(Shop.owner_id == user.id, Shop.deleted_at.is_(None))
    stmt = stmt.where(by_status(Product, status))
    if shop_id is not None:
        stmt = stmt.where(Product.shop_id == shop_id)
    if q and q.strip():
        by_name = Product.name.ilike(like_pattern(q), escape="\\")
        stmt = stmt.where(or_(by_name, func.lower(Product.sku) == q.strip().lower()))
    if sku is not None:
        stmt = stmt.where(func.lower(Product.sku) == sku.lower())
    return stmt


def product_counts(shop_ids: list[int]) -> dict[int, int]:
    """How many live (not deleted) products each of these shops has, 0 included: one grouped query."""
    rows = db.session.execute(
        select(Product.shop_id, func.count())
        .where(Product.shop_id.in_(shop_ids), Product.deleted_at.is_(None))
        .group_by(Product.shop_id)
    ).all()
    return {**dict.fromkeys(shop_ids, 0), **{shop_id: count for shop_id, count in rows}}
