"""Bulk edits: one action on up to ``MAX_IDS`` of a shop's products, in one transaction, for the API and the
dashboard alike.

The rows are locked with one ``SELECT ... FOR UPDATE`` and changed with set-based UPDATEs (a price change is one
CASE by id), so 1 000 ids cost a handful of statements. Each UPDATE skips the rows already as asked, so the
count of changed products leaves them out; the rows it changes get a new ``version`` (their ETag) and
``updated_at``, as a single edit gives them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.orm import aliased

from shopapp.auth.models import User
from shopapp.categories.models import Category
from shopapp.core import validation
from shopapp.core.db import integrity_as, utcnow
from shopapp.core.errors import Conflict, Invalid, NotFound, gathering
from shopapp.extensions import db
from shopapp.products.models import MAX_PRICE, MAX_STOCK, Product
from shopapp.products.services import NAME_TAKEN, SKU_TAKEN, owned_products, with_relations
from shopapp.shops.services import get_owned_shop

MAX_IDS = 1000
ACTIONS = ("activate", "deactivate", "delete", "restore", "set_category", "set_stock", "adjust_price")
# The actions that take a value, and what it is.
VALUED = {
    "set_category": "a category id, or null for none",
    "set_stock": f"the stock, 0 to {MAX_STOCK}",
    "adjust_price": 'an object: {"amount": "-2.50"} or {"percent": "10"}',
}
# The actions that accept deleted products (those already as asked are unchanged); the others act on live ones.
EITHER_STATE = ("delete", "restore")
# An amount or a percentage: at most 7 digits and 2 after the point. A percentage below -100 takes the price to 0.
DECIMAL_MAX = Decimal("9999999.99")
DECIMAL_PATTERN = r"^[+-]?[0-9]{1,7}(\.[0-9]{1,2})?$"  # as the OpenAPI document has it
_CENT = Decimal("0.01")
_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?", re.ASCII)
_NOT_YOURS = "These products are not among the shop's products: {ids}."
_CLASH = "These products cannot be restored: a live product of the shop has their name or SKU: {ids}."
_TOO_DEAR = f"These products' price would go above {MAX_PRICE}: {{ids}}."


@dataclass(frozen=True)
class BulkResult:
    action: str
    changed: int
    products: list[Product]  # every product named, as it is now, in the order given
    at: datetime  # when: a bulk delete's products share this ``deleted_at`` (its undo restores exactly them)


def _names(ids: list[int]) -> str:
    return ", ".join(map(str, ids))


def _decimal(value: Any, field: str, low: Decimal, high: Decimal) -> Decimal:
    """A decimal in a string (exact, unlike a JSON number), with at most two fraction digits, in ``low`` … ``high``."""
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise Invalid('must be a decimal number in a string, such as "10" or "-2.50"', field)
    number = Decimal(value)
    if number.as_tuple().exponent < -2:  # type: ignore[operator]
        raise Invalid("must have at most 2 decimal places", field)
    if not low <= number <= high:
        raise Invalid(f"must be between {low} and {high}", field)
    return number


def _price_change(value: Any) -> tuple[str, Decimal]:
    if not isinstance(value, Mapping) or len(value) != 1 or next(iter(value)) not in ("amount", "percent"):
        raise Invalid('must be {"amount": "-2.50"} or {"percent": "10"}', "value")
    ((kind, number),) = value.items()
    return kind, _decimal(number, f"value.{kind}", -DECIMAL_MAX, DECIMAL_MAX)


def _whole(value: Any, field: str, low: int, high: int) -> int:
    """An integer, or an integral JSON number such as ``5.0`` (JSON Schema's integers include it), in bounds."""
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        value = int(value)
    return validation.bounded_int(value, field, low, high)


def _clean_value(action: str, value: Any, given: bool) -> Any:
    if action not in VALUED:
        if given and value is not None:
            raise Invalid(f"is not used by {action}", "value")
        return None
    if not given:
        raise Invalid(f"is required: {VALUED[action]}", "value")
    if action == "set_category":
        category_id = None if value is None else _whole(value, "value", 1, validation.ID_MAX)
        if category_id is not None and db.session.get(Category, category_id) is None:
            raise Invalid("refers to a category that does not exist", "value")
        return category_id
    if action == "set_stock":
        return _whole(value, "value", 0, MAX_STOCK)
    return _price_change(value)


def clean_request(
    action: Any, product_ids: Any, value: Any = None, *, value_given: bool = True
) -> tuple[str, list[int], Any]:
    """The action, the ids and the value, checked: every problem at once (``Refused``), nothing read yet but
    the category a ``set_category`` names."""
    with gathering() as problems:
        with problems.check():
            if action not in ACTIONS:
                raise Invalid(f"must be one of {', '.join(ACTIONS)}", "action")
        with problems.check():
            ids = _clean_ids(product_ids)
        if action in ACTIONS:
            with problems.check():
                value = _clean_value(action, value, value_given)
    return action, ids, value


def _clean_ids(product_ids: Any) -> list[int]:
    if not isinstance(product_ids, list) or not product_ids:
        raise Invalid(f"must list 1 to {MAX_IDS} product ids", "product_ids")
    if len(product_ids) > MAX_IDS:
        raise Invalid(f"must list at most {MAX_IDS} product ids (got {len(product_ids)})", "product_ids")
    ids = [_whole(pid, "product_ids", 1, validation.ID_MAX) for pid in product_ids]
    repeated = sorted(pid for pid, count in Counter(ids).items() if count > 1)
    if repeated:
        raise Invalid(f"lists these ids more than once: {_names(repeated)}", "product_ids")
    return ids


def bulk_edit(
    user: User, shop_id: int, action: Any, product_ids: Any, value: Any = None, *, value_given: bool = True
) -> BulkResult:
    """Apply ``action`` to the shop's products ``product_ids``: all of them, or none (422 for a bad request,
    404 naming the ids that are not the shop's, 409 naming those a restore or a price change cannot take)."""
    action, ids, value = clean_request(action, product_ids, value, value_given=value_given)
    shop = get_owned_shop(user, shop_id)
    rows = {row.id: row for row in _lock(shop.id, ids)}
    either = action in EITHER_STATE
    missing = [pid for pid in ids if pid not in rows or (rows[pid].deleted_at is not None and not either)]
    if missing:
        raise NotFound(_NOT_YOURS.format(ids=_names(missing)))
    now = utcnow()
    changed = _apply(action, value, ids, rows, now)
    products = db.session.scalars(
        with_relations(select(Product).where(Product.id.in_(ids))).execution_options(populate_existing=True)
    ).unique()
    by_id = {product.id: product for product in products}
    return BulkResult(action, changed, [by_id[pid] for pid in ids], now)


def _lock(shop_id: int, ids: list[int]) -> list[Any]:
    """The shop's rows among ``ids``, locked until the transaction ends (single edits take the same lock)."""
    stmt = select(Product.id, Product.name, Product.sku, Product.price, Product.deleted_at).where(
        Product.id.in_(ids), Product.shop_id == shop_id
    )
    return list(db.session.execute(stmt.with_for_update(of=Product)).all())


def _set(ids: list[int], now: datetime, *where: Any, **values: Any) -> int:
    """One UPDATE of the rows among ``ids`` that ``where`` picks (those not already as asked)."""
    stmt = (
        update(Product)
        .where(Product.id.in_(ids), *where)
        .values(**values, version=Product.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(stmt).rowcount  # type: ignore[attr-defined]


def _apply(action: str, value: Any, ids: list[int], rows: dict[int, Any], now: datetime) -> int:
    live = Product.deleted_at.is_(None)
    if action in ("activate", "deactivate"):
        wanted = action == "activate"
        return _set(ids, now, live, Product.is_active.is_not(wanted), is_active=wanted)
    if action == "delete":
        return _set(ids, now, live, deleted_at=now)
    if action == "restore":
        return _restore([pid for pid in ids if rows[pid].deleted_at is not None], rows, now)
    if action == "set_category":
        return _set(ids, now, live, Product.category_id.is_distinct_from(value), category_id=value)
    if action == "set_stock":
        return _set(ids, now, live, Product.stock != value, stock=value)
    kind, number = value
    return _reprice(ids, rows, kind, number, now)


def new_price(price: Decimal, kind: str, number: Decimal) -> Decimal:
    """``price`` changed by an amount or a percentage, rounded half-up to cents, never below 0."""
    changed = price + number if kind == "amount" else price * (100 + number) / 100
    return max(changed.quantize(_CENT, rounding=ROUND_HALF_UP), Decimal("0.00"))


def _reprice(ids: list[int], rows: dict[int, Any], kind: str, number: Decimal, now: datetime) -> int:
    prices = {pid: new_price(rows[pid].price, kind, number) for pid in ids}
    too_dear = [pid for pid in ids if prices[pid] > MAX_PRICE]
    if too_dear:
        raise Conflict(_TOO_DEAR.format(ids=_names(too_dear)), "value")
    moved = {pid: prices[pid] for pid in ids if prices[pid] != rows[pid].price}
    if moved:  # one UPDATE: each row's new price by its id (an executemany would be a round trip per row)
        money = Product.price.type
        by_id = case({pid: bindparam(None, price, type_=money) for pid, price in moved.items()}, value=Product.id)
        _set(list(moved), now, price=by_id)
    return len(moved)


def _restore(deleted: list[int], rows: dict[int, Any], now: datetime) -> int:
    """Restore the deleted ones, or none if one would take the name or SKU of a live product (or of another
    one restored with it)."""
    if not deleted:
        return 0
    live = aliased(Product)
    clashes = set(
        db.session.scalars(
            select(Product.id)
            .join(live, (live.shop_id == Product.shop_id) & live.deleted_at.is_(None))
            .where(
                Product.id.in_(deleted),
                or_(
                    func.lower(live.name) == func.lower(Product.name),
                    func.lower(live.sku) == func.lower(Product.sku),
                ),
            )
        )
    )
    for key in (lambda r: r.name.lower(), lambda r: r.sku.lower() if r.sku else None):
        seen = Counter(key(rows[pid]) for pid in deleted)
        clashes |= {pid for pid in deleted if key(rows[pid]) is not None and seen[key(rows[pid])] > 1}
    if clashes:
        raise Conflict(_CLASH.format(ids=_names(sorted(clashes))))
    with integrity_as(Conflict(NAME_TAKEN), by_constraint={"uq_products_sku_shop_live": Conflict(SKU_TAKEN)}):
        changed = _set(deleted, now, Product.deleted_at.is_not(None), deleted_at=None)
    return changed


def deleted_together(user: User, shop_id: int, at: datetime) -> list[int]:
    """The ids of the shop's products one bulk delete at ``at`` deleted and that are still deleted: its undo."""
    shop = get_owned_shop(user, shop_id)
    stmt = select(Product.id).where(Product.shop_id == shop.id, Product.deleted_at == at).order_by(Product.id)
    return list(db.session.scalars(stmt.limit(MAX_IDS)))


def matching_ids(user: User, shop_id: int, *, status: str, q: str | None) -> list[int]:
    """The ids of the shop's products a products-table filter matches, by id: at most ``MAX_IDS`` + 1, so that
    a caller can tell "too many for one bulk edit" without reading them all."""
    stmt = owned_products(user, status=status, shop_id=shop_id, q=q).with_only_columns(Product.id)
    return list(db.session.scalars(stmt.order_by(Product.id).limit(MAX_IDS + 1)))
