"""The category tree: public reads; anyone may file products under any category; only a category's creator adds
subcategories under it or changes it."""

from __future__ import annotations

from shopapp.api.operations import operation
from shopapp.api.schemas import CategoryCreate, CategoryListQuery, CategoryOut, CategoryPage, CategoryUpdate
from shopapp.auth.models import User
from shopapp.categories import services as categories
from shopapp.categories.models import Category
from shopapp.core.pagination import Page

TAG = "categories"
ONE = "/categories/<int:category_id>"


@operation("/categories", summary="Categories, by name", tag=TAG, query=CategoryListQuery, response=CategoryPage)
def list_categories(query: CategoryListQuery) -> Page[Category]:
    """Categories by name; parent_id keeps the direct children of one category."""
    return categories.list_categories(parent_id=query.parent_id, page=query.page, per_page=query.per_page)


@operation(ONE, summary="One category", tag=TAG, response=CategoryOut, errors=(404,))
def get_category(category_id: int) -> Category:
    """One category; parent_id links it into the tree."""
    return categories.get_category(category_id)


@operation(
    "/categories",
    methods=("POST",),
    summary="Add a category (at the root, or under a parent_id of the caller's own: 403 otherwise)",
    tag=TAG,
    status=201,
    auth="required",
    body=CategoryCreate,
    response=CategoryOut,
    errors=(403, 409),
    rules=categories.FIELDS,
)
def create_category(user: User, body: CategoryCreate) -> Category:
    """A parent_id must name an existing category (422 otherwise) that the caller created (403 otherwise); a name
    taken among its siblings is 409.
    """
    return categories.create_category(user, body.model_dump(exclude_unset=True))


@operation(
    ONE,
    methods=("PUT", "PATCH"),
    summary="Change the given fields; a parent not the caller's own is 403, one that makes a cycle 422",
    tag=TAG,
    auth="required",
    body=CategoryUpdate,
    response=CategoryOut,
    errors=(403, 404, 409),
    rules=categories.FIELDS,
)
def update_category(category_id: int, user: User, body: CategoryUpdate) -> Category:
    """PUT and PATCH alike change only the fields given. A new parent_id must exist (422), be the caller's own (403)
    and not lie inside this category (422: the tree would have a cycle); a name taken among the siblings is 409.
    """
    return categories.update_category(user, category_id, body.model_dump(exclude_unset=True))


@operation(
    ONE,
    methods=("DELETE",),
    summary="Delete a category none of the caller's live products or subcategories uses; others' products move up",
    tag=TAG,
    auth="required",
    errors=(403, 404, 409),
)
def delete_category(category_id: int, user: User) -> None:
    """Refused with 409 while the caller's live products or subcategories use it; another owner's products and
    subcategories filed under it move up to its parent.
    """
    categories.delete_category(user, category_id)
