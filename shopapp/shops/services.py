"""Shops: the one place that decides who may see and change a shop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, bindparam, or_, select

from shopapp.auth.models import User
from shopapp.core import validation
from shopapp.core.db import STATUSES, by_status, utcnow
from shopapp.core.errors import Forbidden, Invalid, NotDeleted, NotFound, gathering
from shopapp.core.pagination import DEFAULT_PER_PAGE, Page, paginate
from shopapp.core.text import like_pattern, slugify
from shopapp.extensions import db
from shopapp.shops.models import Shop

NOT_FOUND = "No such shop."
NOT_DELETED = "This shop is not deleted."

# Each field's rule. Page forms and the API also check by it the fields they could read when others were not
# even of the right type, so that one answer names every problem.
FIELDS: validation.Rules = {
    "name": validation.name,
    "description": lambda v: validation.text(v, "description"),
    "address": lambda v: validation.text(v, "address", 500),
    "email": validation.optional_email,
    "phone": validation.phone,
    "is_active": lambda v: validation.boolean(v, "is_active"),
    "shipping_fee": lambda v: validation.price(v, "shipping_fee"),
}


def live_shops() -> Select[Any]:
    """Shops customers can see: active and not deleted."""
    return select(Shop).where(Shop.is_active, Shop.deleted_at.is_(None))


def get_visible_shop(shop_id: int, viewer: User | None = None) -> Shop:
    """A shop as a customer sees it; its owner also sees it while inactive."""
    shop = db.session.get(Shop, shop_id)
    if shop is None or shop.deleted_at is not None:
        raise NotFound(NOT_FOUND)
    if not shop.is_active and (viewer is None or shop.owner_id != viewer.id):
        raise NotFound(NOT_FOUND)
    return shop


def get_owned_shop(user: User, shop_id: int, *, deleted: bool | None = False) -> Shop:
    """The caller's own shop, or NotFound / Forbidden.

    Another user's shop that customers can see is Forbidden (the API answers 403);
    one they cannot see is NotFound, so its existence is not revealed.
    ``deleted=True`` asks for a soft-deleted shop, ``None`` for one deleted or not.
    """
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(NOT_FOUND)
    if shop.owner_id != user.id:
        if shop.is_live:
            raise Forbidden("This shop belongs to someone else.")
        raise NotFound(NOT_FOUND)
    if deleted is not None and (shop.deleted_at is not None) != deleted:
        raise NotFound(NOT_FOUND)
    return shop


def create_shop(owner: User, data: Mapping[str, Any]) -> Shop:
    with gathering() as problems:
        fields = validation.clean_fields(data, FIELDS, problems, required=("name",))
    shop = Shop(owner_id=owner.id, slug=slugify(fields["name"]), **fields)
    db.session.add(shop)
    db.session.flush()
    return shop


def update_shop(user: User, shop_id: int, changes: Mapping[str, Any]) -> Shop:
    shop = get_owned_shop(user, shop_id)
    with gathering() as problems:
        fields = validation.clean_fields(changes, FIELDS, problems)
    for key, value in fields.items():
        setattr(shop, key, value)
    if "name" in fields:
        shop.slug = slugify(fields["name"])
    db.session.flush()
    return shop


def delete_shop(user: User, shop_id: int) -> Shop:
    """Soft delete: the shop and its products leave the catalog until restored."""
    shop = get_owned_shop(user, shop_id)
    shop.deleted_at = utcnow()
    db.session.flush()
    return shop


def restore_shop(user: User, shop_id: int) -> Shop:
    """Bring a soft-deleted shop back; one that is not deleted is a conflict (restored meanwhile, say)."""
    shop = get_owned_shop(user, shop_id, deleted=None)
    if shop.deleted_at is None:
        raise NotDeleted(NOT_DELETED)
    shop.deleted_at = None
    db.session.flush()
    return shop


def list_shops(
    *, q: str | None = None, owner_id: int | None = None, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[Shop]:
    stmt = live_shops()
    if owner_id is not None:
        stmt = stmt.where(Shop.owner_id == owner_id)
    if q and q.strip():
        pattern = like_pattern(q)
        stmt = stmt.where(or_(Shop.name.ilike(pattern, escape="\\"), Shop.description.ilike(pattern, escape="\\")))
    return paginate(stmt.order_by(Shop.name, Shop.id), page, per_page)


# Built once, so each request reuses its compiled form; the values are parameters. The kept shop sorts first, so
# the limit never cuts it off.
_KEPT = Shop.id == bindparam("keep")
_CHOICES = (
    live_shops()
    .with_only_columns(Shop.id, Shop.name)
    .where(or_(Shop.name.ilike(bindparam("pattern"), escape="\\"), _KEPT))
    .order_by(_KEPT.desc(), Shop.name, Shop.id)
    .limit(bindparam("limit"))
)


def shop_choices(limit: int, *, find: str | None = None, keep: int | None = None) -> list[tuple[int, str]]:
    """(id, name) of the first ``limit`` shops of ``list_shops`` whose name has ``find`` in it, for a <select> on
    every catalog page; with ``keep`` (the shop chosen) that live shop too, wherever it ranks, in name order with
    the others. One query of two columns, no count, no objects to build."""
    kept = keep if keep is not None and 1 <= keep <= validation.ID_MAX else 0  # no row has id 0
    values = {"pattern": like_pattern(find) if find and find.strip() else "%", "keep": kept, "limit": limit + 1}
    rows = [(ident, name) for ident, name in db.session.execute(_CHOICES, values)]
    if not rows or rows[0][0] != kept:
        return rows[:limit]
    chosen, others = rows[0], rows[1:]
    at = next((n for n, row in enumerate(others) if (row[1], row[0]) > (chosen[1], chosen[0])), len(others))
    return [*others[:at], chosen, *others[at:]]


def list_own_shops(user: User, *, deleted: bool = False) -> list[Shop]:
    stmt = select(Shop).where(Shop.owner_id == user.id, by_status(Shop, "deleted" if deleted else None))
    return list(db.session.scalars(stmt.order_by(Shop.name, Shop.id)))


def list_user_shops(
    user: User, *, status: str | None = None, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[Shop]:
    """The owner's shops by status (``core.db.STATUSES``); without one, those not deleted, active or not."""
    if status is not None and status not in STATUSES:
        raise Invalid(f"must be one of {', '.join(STATUSES)}", "status")
    stmt = select(Shop).where(Shop.owner_id == user.id, by_status(Shop, status))
    return paginate(stmt.order_by(Shop.name, Shop.id), page, per_page)
