"""The caller's cart: products of any shops with a quantity each, priced as they are now; checkout
(POST /checkout, under orders) places it."""

from __future__ import annotations

from shopapp.api.operations import operation
from shopapp.api.schemas import CartItemIn, CartOut
from shopapp.auth.models import User
from shopapp.orders import carts
from shopapp.orders.carts import CartView
from shopapp.orders.models import MAX_QUANTITY

TAG = "cart"
ITEM = "/cart/items/<int:product_id>"


@operation("/cart", summary="The caller's cart", tag=TAG, auth="required", response=CartOut)
def get_cart(user: User) -> CartView:
    """Every item with the product's current price; available is false for a product that left the catalog or
    whose stock is now below the quantity (checkout refuses those). An empty cart has items: [].
    """
    return carts.get_cart(carts.holder_for(user, None))


@operation(
    ITEM,
    methods=("PUT",),
    summary=f"Set a product's quantity in the cart (1 to {MAX_QUANTITY}; 0 removes it)",
    tag=TAG,
    auth="required",
    body=CartItemIn,
    response=CartOut,
    errors=(404, 409),
)
def set_cart_item(product_id: int, user: User, body: CartItemIn) -> CartView:
    """404 for a product not in the catalog (inactive, deleted, or in a closed shop); 409 when the quantity
    is more than its stock. The answer is the whole cart.
    """
    return carts.set_quantity(carts.holder_for(user, None), product_id, body.quantity)


@operation(
    ITEM,
    methods=("DELETE",),
    summary="Take a product out of the cart",
    tag=TAG,
    auth="required",
    response=CartOut,
)
def delete_cart_item(product_id: int, user: User) -> CartView:
    """Whether the product is still sold or not; a product that is not in the cart changes nothing."""
    return carts.remove(carts.holder_for(user, None), product_id)


@operation("/cart", methods=("DELETE",), summary="Empty the cart", tag=TAG, auth="required")
def clear_cart(user: User) -> None:
    """Every item goes."""
    carts.clear(carts.holder_for(user, None))
