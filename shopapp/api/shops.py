"""Shops: a public list and detail; the owner creates, edits, soft-deletes and restores."""

from __future__ import annotations

from shopapp.api.operations import operation
from shopapp.api.schemas import ShopCreate, ShopListQuery, ShopOut, ShopPage, ShopUpdate
from shopapp.auth.models import User
from shopapp.core.pagination import Page
from shopapp.shops import services as shops
from shopapp.shops.models import Shop

TAG = "shops"
ONE = "/shops/<int:shop_id>"


@operation("/shops", summary="Active shops", tag=TAG, query=ShopListQuery, response=ShopPage)
def list_shops(query: ShopListQuery) -> Page[Shop]:
    """Active shops, by name; q matches part of a shop's name or description (any case), owner_id keeps one owner's."""
    return shops.list_shops(q=query.q, owner_id=query.owner_id, page=query.page, per_page=query.per_page)


@operation(
    ONE,
    summary="One shop (its owner also sees it while inactive)",
    tag=TAG,
    auth="optional",
    response=ShopOut,
    errors=(404,),
)
def get_shop(shop_id: int, user: User | None) -> Shop:
    """An active shop, or one of the caller's own while inactive; a deleted shop, or another's inactive one, is 404."""
    return shops.get_visible_shop(shop_id, user)


@operation(
    "/shops",
    methods=("POST",),
    summary="Open a shop owned by the caller",
    tag=TAG,
    status=201,
    auth="required",
    body=ShopCreate,
    response=ShopOut,
    rules=shops.FIELDS,
)
def create_shop(user: User, body: ShopCreate) -> Shop:
    """The caller owns the new shop; its slug is made from the name."""
    return shops.create_shop(user, body.model_dump(exclude_unset=True))


@operation(
    ONE,
    methods=("PUT", "PATCH"),
    summary="Change the given fields of the caller's shop",
    tag=TAG,
    auth="required",
    body=ShopUpdate,
    response=ShopOut,
    errors=(403, 404),
    rules=shops.FIELDS,
)
def update_shop(shop_id: int, user: User, body: ShopUpdate) -> Shop:
    """PUT and PATCH alike change only the fields given; is_active false takes the shop out of the public lists."""
    return shops.update_shop(user, shop_id, body.model_dump(exclude_unset=True))


@operation(
    ONE,
    methods=("DELETE",),
    summary="Soft-delete the caller's shop; its products leave the catalog",
    tag=TAG,
    auth="required",
    errors=(403, 404),
)
def delete_shop(shop_id: int, user: User) -> None:
    """A soft delete: the shop and its products leave the catalog and lists until it is restored."""
    shops.delete_shop(user, shop_id)


@operation(
    ONE + "/restore",
    methods=("POST",),
    summary="Restore the caller's soft-deleted shop; 409 if it is not deleted",
    tag=TAG,
    auth="required",
    response=ShopOut,
    errors=(403, 404, 409),
)
def restore_shop(shop_id: int, user: User) -> Shop:
    """Brings a soft-deleted shop of the caller's back; its products return to the catalog with it."""
    return shops.restore_shop(user, shop_id)
