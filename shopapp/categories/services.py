"""The category tree. Categories are public to browse, and anyone may file a product under any of them (the
catalog's purpose); anyone signed in may add a top-level category; but only a category's owner may add
subcategories under it (or move one there), rename, move or delete it. Other owners cannot block that delete:
their products, and any subcategory of theirs hung there before this rule, move up to the deleted one's parent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, bindparam, exists, func, literal, select, update
from sqlalchemy.orm import aliased

from shopapp.auth.models import User
from shopapp.categories.models import Category
from shopapp.core import validation
from shopapp.core.db import integrity_as
from shopapp.core.errors import Conflict, Forbidden, Invalid, NotFound, Problems, gathering
from shopapp.core.pagination import DEFAULT_PER_PAGE, Page, paginate
from shopapp.core.text import slugify
from shopapp.extensions import db
from shopapp.products.models import Product
from shopapp.shops.models import Shop

NOT_FOUND = "No such category."
NAME_TAKEN = "A category with this name already exists at this level."
NOT_YOUR_PARENT = "Only the category's owner can add subcategories under it."
UNDER_ANOTHER = "This category sits under another owner's category; move it out before renaming it."
_BY_NAME = (func.lower(Category.name), Category.id)

# Each field's rule. Page forms and the API also check by it the fields they could read when others were not
# even of the right type, so that one answer names every problem.
FIELDS: validation.Rules = {
    "name": validation.name,
    "description": lambda v: validation.text(v, "description"),
    "parent_id": lambda v: None if v is None else validation.bounded_int(v, "parent_id", 1, validation.ID_MAX),
}


def get_category(category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None:
        raise NotFound(NOT_FOUND)
    return category


def get_owned_category(user: User, category_id: int) -> Category:
    category = get_category(category_id)
    if category.owner_id != user.id:
        raise Forbidden("Only the category's creator can change it.")
    return category


def descendants(category_id: int) -> Select[tuple[int]]:
    """The ids of the category and of every category below it: a recursive query, the same on both
    databases, to embed in another (the catalog filters by it in the same round trip as its page)."""
    tree = select(Category.id).where(Category.id == category_id).cte("tree", recursive=True)
    tree = tree.union_all(select(Category.id).where(Category.parent_id == tree.c.id))
    return select(tree.c.id)


def descendant_ids(category_id: int) -> list[int]:
    return list(db.session.scalars(descendants(category_id)))


MAX_DEPTH = 64  # a guard on walks up the tree (moves cannot make a cycle; a bug should not hang a page)


def ancestors(category: Category) -> list[Category]:
    """From the root down to ``category`` itself (for breadcrumbs)."""
    chain = [category]
    while chain[0].parent_id is not None and len(chain) < MAX_DEPTH:
        chain.insert(0, get_category(chain[0].parent_id))
    return chain


PATH_SEPARATOR = " > "


def category_paths(category_ids: Iterable[int]) -> dict[int, str]:
    """Each category's path from its root down (``Home & Kitchen > Mugs``), for the CSV export, in one recursive
    query whatever the depth."""
    wanted = set(category_ids)
    if not wanted:
        return {}
    parent = aliased(Category)
    start = select(Category.id.label("start"), Category.parent_id, Category.name, literal(0).label("depth"))
    base = start.where(Category.id.in_(wanted)).cte("up", recursive=True)
    up = base.union_all(
        select(base.c.start, parent.parent_id, parent.name, base.c.depth + 1).where(
            parent.id == base.c.parent_id, base.c.depth < MAX_DEPTH
        )
    )
    names: dict[int, list[str]] = {}
    for start, name in db.session.execute(select(up.c.start, up.c.name).order_by(up.c.start, up.c.depth.desc())):
        names.setdefault(start, []).append(name)
    return {start: PATH_SEPARATOR.join(chain) for start, chain in names.items()}


def _check_parent(user: User, parent_id: int | None, problems: Problems, moving: Category | None = None) -> None:
    """A parent must exist (422), be the caller's own (403 at once: nobody hangs things under another's category,
    nor takes names there), and not lie inside the category being moved (422); a 422 goes into ``problems``."""
    if parent_id is None:
        return
    parent = db.session.get(Category, parent_id)
    if parent is None:
        problems.add(Invalid("refers to a category that does not exist", "parent_id"))
    elif parent.owner_id != user.id:
        raise Forbidden(NOT_YOUR_PARENT, "parent_id")
    elif moving is not None and parent_id in descendant_ids(moving.id):
        problems.add(Invalid("would put the category inside itself", "parent_id"))


def create_category(owner: User, data: Mapping[str, Any]) -> Category:
    with gathering() as problems:
        fields = validation.clean_fields(data, FIELDS, problems, required=("name",))
        _check_parent(owner, fields.get("parent_id"), problems)
    category = Category(owner_id=owner.id, slug=slugify(fields["name"]), **fields)
    with integrity_as(Conflict(NAME_TAKEN, "name")):
        db.session.add(category)
    return category


def update_category(user: User, category_id: int, changes: Mapping[str, Any]) -> Category:
    category = get_owned_category(user, category_id)
    with gathering() as problems:
        fields = validation.clean_fields(changes, FIELDS, problems)
        if "parent_id" in changes:
            _check_parent(user, fields.get("parent_id"), problems, moving=category)
        elif "name" in fields and category.parent_id is not None:
            # A subcategory hung under another owner's category before the rule may leave, but not take names there.
            parent = db.session.get(Category, category.parent_id)
            if parent is not None and parent.owner_id != user.id:
                raise Forbidden(UNDER_ANOTHER, "name")
    with integrity_as(Conflict(NAME_TAKEN, "name")):
        for key, value in fields.items():
            setattr(category, key, value)
        if "name" in fields:
            category.slug = slugify(fields["name"])
    return category


def delete_category(user: User, category_id: int) -> None:
    """Delete a category, or refuse (409) while the owner's own live products or subcategories use it.

    Nothing of another owner's can block it: their products (live or not), and any subcategory of theirs hung
    here before only owners could, move up to this category's parent (none for a top-level one), where
    browsing still finds them; a lifted subcategory whose name is taken at its new level gets its id after
    its name. The owner's own soft-deleted products simply lose the category, as before."""
    category = get_owned_category(user, category_id)
    own_child = exists().where(Category.parent_id == category.id, Category.owner_id == user.id)
    if db.session.scalar(select(own_child)):
        raise Conflict("This category still has subcategories; move or delete them first.")
    mine = Product.shop_id.in_(select(Shop.id).where(Shop.owner_id == user.id))
    in_use = exists().where(Product.category_id == category.id, Product.deleted_at.is_(None), mine)
    if db.session.scalar(select(in_use)):
        raise Conflict("Products still use this category; move them to another category first.")
    with integrity_as(Conflict("The category changed while it was being deleted; try again.")):
        for child in db.session.scalars(select(Category).where(Category.parent_id == category.id)):
            _lift(child, category.parent_id)
        db.session.execute(
            update(Product).where(Product.category_id == category.id, ~mine).values(category_id=category.parent_id),
            execution_options={"synchronize_session": False},
        )
        db.session.execute(
            update(Product).where(Product.category_id == category.id).values(category_id=None),
            execution_options={"synchronize_session": False},
        )
        db.session.delete(category)


def _lift(child: Category, parent_id: int | None) -> None:
    """Move another owner's subcategory up a level, renaming it "Name (id)" if its name is taken there."""
    parent = Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id
    taken = exists().where(parent, func.lower(Category.name) == func.lower(child.name), Category.id != child.id)
    if db.session.scalar(select(taken)):
        suffix = f" ({child.id})"
        child.name = child.name[: validation.NAME_MAX - len(suffix)] + suffix
        child.slug = slugify(child.name)
    child.parent_id = parent_id
    db.session.flush()


def list_categories(
    *, parent_id: int | None = None, owner_id: int | None = None, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[Category]:
    stmt = select(Category)
    if parent_id is not None:
        stmt = stmt.where(Category.parent_id == parent_id)
    if owner_id is not None:
        stmt = stmt.where(Category.owner_id == owner_id)
    return paginate(stmt.order_by(*_BY_NAME), page, per_page)


# The children a category page links to. Built once, so each request reuses its compiled form.
_CHILDREN = (
    select(Category).where(Category.parent_id == bindparam("parent_id")).order_by(*_BY_NAME).limit(bindparam("limit"))
)


def child_categories(parent_id: int, limit: int) -> list[Category]:
    """The first ``limit`` children of a category in ``list_categories`` order, without counting them all."""
    return list(db.session.scalars(_CHILDREN, {"parent_id": parent_id, "limit": limit}))


# The columns a <select> of the tree needs (the owner too, to offer only one's own as parents), siblings by
# name; built once, so each request reuses its compiled form.
_OUTLINE = select(Category.id, Category.parent_id, Category.name, Category.owner_id).order_by(*_BY_NAME)


def category_outline(owner_id: int | None = None) -> list[tuple[int, int, str]]:
    """The whole tree as (id, depth, name), depth-first from the roots, siblings by name, in one query; with
    ``owner_id``, only that owner's categories (the parents they may choose), each at its depth in the tree."""
    children: dict[int | None, list[tuple[int, str, int]]] = {}
    for ident, parent_id, name, owner in db.session.execute(_OUTLINE):
        children.setdefault(parent_id, []).append((ident, name, owner))
    outline: list[tuple[int, int, str]] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for ident, name, owner in children.get(parent_id, ()):
            if owner_id is None or owner == owner_id:
                outline.append((ident, depth, name))
            walk(ident, depth + 1)

    walk(None, 0)
    return outline
