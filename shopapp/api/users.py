"""Users and tokens: register, log in (throttled per account), who am I, log out everywhere, my products and
shops."""

from __future__ import annotations

from shopapp.api.operations import operation
from shopapp.api.schemas import (
    LoginIn,
    OwnProductsQuery,
    OwnShopsQuery,
    ProductPage,
    RegisterIn,
    ShopPage,
    TokenOut,
    UserOut,
)
from shopapp.auth import services as auth
from shopapp.auth.models import User
from shopapp.auth.tokens import AccessToken, issue_access_token
from shopapp.core.pagination import Page
from shopapp.products import services as products
from shopapp.products.models import Product
from shopapp.shops import services as shops
from shopapp.shops.models import Shop

TAG = "users"


@operation(
    "/users/register",
    methods=("POST",),
    summary="Create an account",
    tag=TAG,
    status=201,
    body=RegisterIn,
    response=UserOut,
    errors=(409,),
    rules=auth.REGISTRATION,
)
def register(body: RegisterIn) -> User:
    """The email must not belong to an account yet, in any case (409); the password is stored as an Argon2 hash."""
    return auth.register(body.email, body.password, body.name)


@operation(
    "/users/login",
    methods=("POST",),
    summary="Get an access token",
    tag=TAG,
    body=LoginIn,
    response=TokenOut,
    errors=(401, 429),
)
def login(body: LoginIn) -> AccessToken:
    """Unknown email and wrong password answer alike; failures count towards the account's throttle."""
    return issue_access_token(auth.authenticate(body.email, body.password))


@operation("/users/me", summary="The caller's account", tag=TAG, auth="required", response=UserOut)
def me(user: User) -> User:
    """The account the access token was issued to."""
    return user


@operation(
    "/users/logout",
    methods=("POST",),
    summary="Revoke every token issued to the caller so far",
    tag=TAG,
    auth="required",
)
def logout(user: User) -> None:
    """Every token issued to the caller so far stops working, this one included (401 from then on)."""
    auth.end_all_sessions(user)


@operation(
    "/users/me/products",
    summary="The caller's products across their shops",
    tag=TAG,
    auth="required",
    query=OwnProductsQuery,
    response=ProductPage,
)
def my_products(user: User, query: OwnProductsQuery) -> Page[Product]:
    """The caller's products in all their shops, by name: active (the default), inactive or deleted; sku finds the
    one with that SKU in each shop."""
    return products.list_user_products(
        user, status=query.status, sku=query.sku, page=query.page, per_page=query.per_page
    )


@operation(
    "/users/me/shops",
    summary="The caller's shops, inactive and deleted ones included (by status)",
    tag=TAG,
    auth="required",
    query=OwnShopsQuery,
    response=ShopPage,
)
def my_shops(user: User, query: OwnShopsQuery) -> Page[Shop]:
    """The caller's own shops, by name: every shop not deleted (the default), only active or inactive ones, or
    the deleted ones (which the owner may restore)."""
    return shops.list_user_shops(user, status=query.status, page=query.page, per_page=query.per_page)
