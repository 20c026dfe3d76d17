"""A believable demo catalog, built through the same services as everything else."""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from decimal import Decimal

from shopapp.auth import services as auth
from shopapp.auth.models import User
from shopapp.categories import services as categories
from shopapp.media import services as media
from shopapp.products import services as products
from shopapp.shops import services as shops

OWNERS = [
    ("ada@shopapp.example", "Ada Lovelace", "ada-demo-pass"),
    ("grace@shopapp.example", "Grace Hopper", "grace-demo-pass"),
    ("linus@shopapp.example", "Linus Pauling", "linus-demo-pass"),
]

# shop name, owner index, description, address, phone, the top categories it sells
SHOPS = [
    (
        "Northwind Outfitters",
        0,
        "Hard-wearing gear for trails, camps and city commutes.",
        "12 Harbour Road, Bristol",
        "+44 117 496 0000",
        ["Outdoors", "Clothing"],
    ),
    (
        "Copper & Clay",
        0,
        "Small-batch ceramics and kitchenware made to be used every day.",
        "4 Potters Lane, Stoke-on-Trent",
        "+44 1782 000 111",
        ["Home & Kitchen"],
    ),
    (
        "Byte Bazaar",
        1,
        "Accessories and gadgets that make a desk, a bag or a pocket better.",
        "88 Market Street, Manchester",
        "+44 161 555 0188",
        ["Electronics"],
    ),
    (
        "Paper Lantern Books",
        1,
        "New and well-loved books, notebooks and stationery.",
        "3 Castle Wynd, Edinburgh",
        "+44 131 555 0103",
        ["Books & Stationery"],
    ),
    (
        "Leaf & Loom",
        2,
        "Natural textiles, leather goods and plants for calm homes.",
        "27 Mill Yard, Leeds",
        "+44 113 555 0127",
        ["Home & Kitchen", "Accessories"],
    ),
]


def products_per_shop(tops: list[str]) -> int:
    """How many products a demo shop gets: a few more when it sells under two top categories."""
    return 44 if len(tops) == 1 else 46


PRODUCT_COUNT = sum(products_per_shop(tops) for *_, tops in SHOPS)

CATEGORY_TREE = {
    "Outdoors": ["Tents", "Backpacks", "Camp Kitchen", "Lighting"],
    "Clothing": ["Jackets", "Knitwear", "Socks", "Hats"],
    "Home & Kitchen": ["Mugs & Cups", "Plates & Bowls", "Textiles", "Plants"],
    "Electronics": ["Chargers", "Audio", "Cables", "Desk Gear"],
    "Books & Stationery": ["Notebooks", "Pens", "Fiction", "Cookbooks"],
    "Accessories": ["Wallets", "Bags", "Belts"],
}

# Per leaf category: nouns, and adjectives/materials that fit them.
ITEMS = {
    "Tents": (["Tent", "Bivvy", "Tarp Shelter"], ["Two-Person", "Ultralight", "Storm", "Family", "Trekking"]),
    "Backpacks": (["Backpack", "Daypack", "Rucksack"], ["28 L", "Rolltop", "Waxed Canvas", "Trail", "Commuter"]),
    "Camp Kitchen": (["Stove", "Pot Set", "Spork", "Kettle"], ["Titanium", "Folding", "Enamel", "Compact"]),
    "Lighting": (["Headlamp", "Lantern", "Torch"], ["Rechargeable", "Solar", "Red-Light", "Pocket"]),
    "Jackets": (["Jacket", "Parka", "Shell"], ["Waterproof", "Down", "Wool", "Packable", "Rain"]),
    "Knitwear": (["Sweater", "Cardigan", "Scarf"], ["Merino", "Lambswool", "Cable-Knit", "Fisherman"]),
    "Socks": (["Socks", "Hiking Socks", "Liner Socks"], ["Merino", "Cushioned", "Bamboo", "Striped"]),
    "Hats": (["Beanie", "Cap", "Sun Hat"], ["Wool", "Waxed", "Wide-Brim", "Ribbed"]),
    "Mugs & Cups": (["Mug", "Cup", "Tumbler"], ["Stoneware", "Speckled", "Glazed", "Espresso", "Enamel"]),
    "Plates & Bowls": (["Plate", "Bowl", "Platter"], ["Stoneware", "Porcelain", "Serving", "Hand-Thrown"]),
    "Textiles": (["Throw", "Cushion Cover", "Tea Towel", "Table Runner"], ["Linen", "Wool", "Cotton", "Waffle"]),
    "Plants": (["Monstera", "Fern", "Snake Plant", "Pothos"], ["Potted", "Hanging", "Mini", "Large"]),
    "Chargers": (["Charger", "Power Bank", "Charging Pad"], ["65 W USB-C", "Wireless", "Travel", "10000 mAh"]),
    "Audio": (["Headphones", "Earbuds", "Speaker"], ["Wireless", "Noise-Cancelling", "Portable", "Studio"]),
    "Cables": (["Cable", "Adapter", "Hub"], ["Braided USB-C", "HDMI", "Lightning", "7-in-1"]),
    "Desk Gear": (
        ["Laptop Stand", "Desk Mat", "Keyboard", "Monitor Light"],
        ["Aluminium", "Felt", "Mechanical", "Walnut"],
    ),
    "Notebooks": (["Notebook", "Journal", "Sketchbook"], ["Dotted A5", "Linen", "Pocket", "Leather-Bound"]),
    "Pens": (["Fountain Pen", "Pencil Set", "Gel Pen", "Brush Pen"], ["Brass", "Graphite", "Fine", "Japanese"]),
    "Fiction": (["Novel", "Short Stories", "Poetry Collection"], ["Seaside", "Midnight", "Northern", "Forgotten"]),
    "Cookbooks": (["Cookbook", "Baking Book", "Recipe Journal"], ["Vegetable", "Sourdough", "One-Pot", "Coastal"]),
    "Wallets": (["Wallet", "Card Holder", "Coin Purse"], ["Leather", "Slim", "Vegetable-Tanned", "RFID"]),
    "Bags": (["Tote", "Messenger Bag", "Weekender"], ["Canvas", "Leather", "Waxed", "Market"]),
    "Belts": (["Belt", "Braided Belt"], ["Leather", "Canvas", "Brass-Buckle", "Woven"]),
}

PALETTE = {
    "Forest": (34, 85, 51),
    "Slate": (84, 99, 115),
    "Ochre": (204, 136, 34),
    "Navy": (31, 52, 94),
    "Charcoal": (54, 57, 61),
    "Sand": (214, 190, 150),
    "Rust": (168, 72, 38),
    "Sage": (140, 160, 120),
    "Oat": (222, 208, 182),
    "Plum": (110, 52, 92),
}
COLOURS = list(PALETTE)
DETAILS = [
    "Made in small batches and checked by hand before it ships.",
    "Built to last for years of daily use, and easy to repair.",
    "A customer favourite that makes a thoughtful gift.",
    "Designed with a quiet, timeless look that suits any room.",
    "Light enough to carry everywhere and tough enough for the weather.",
    "Sourced from a family workshop we have worked with for a decade.",
    "Packed plastic-free in recycled card.",
]


def demo_image(name: str, colour: str, rng: random.Random) -> bytes:
    """A simple product shot drawn with Pillow: the colour, an object, and its name."""
    from PIL import Image, ImageDraw, ImageFont

    base = PALETTE[colour]
    light = tuple(min(255, c + 90) for c in base)
    image = Image.linear_gradient("L").resize((800, 600)).convert("RGB")
    image = Image.composite(Image.new("RGB", image.size, light), Image.new("RGB", image.size, base), image.convert("L"))
    draw = ImageDraw.Draw(image)
    x, y = rng.randrange(220, 300), rng.randrange(120, 170)
    draw.rounded_rectangle(
        (x, y, x + 260, y + 260), radius=rng.choice([20, 60, 130]), fill=(250, 248, 244), outline=base, width=10
    )
    draw.ellipse((x + 90, y + 90, x + 170, y + 170), fill=base)
    font = ImageFont.load_default(size=34)
    ink = (40, 40, 40) if sum(light) / 3 > 170 else (255, 255, 255)  # readable on light and dark palettes
    draw.text((400, 520), name, fill=ink, font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def seed_demo(seed: int = 20261124, on_product: Callable[[], None] = lambda: None) -> list[tuple[str, str]]:
    """Fill an empty database; returns the demo owners' (email, password) pairs.

    ``on_product`` is called after each of the ``PRODUCT_COUNT`` products (with its image) is made.
    """
    rng = random.Random(seed)
    users: list[User] = [auth.register(email, password, name) for email, name, password in OWNERS]

    leaves: dict[str, list[int]] = {}
    for top, children in CATEGORY_TREE.items():
        parent = categories.create_category(users[0], {"name": top, "description": f"Everything in {top.lower()}."})
        leaves[top] = []
        for child in children:
            # Only a category's owner adds under it. The draw that once picked a random creator stays, so
            # the rest of the demo (products, prices) comes out as before.
            rng.randrange(3)
            leaves[top].append(categories.create_category(users[0], {"name": child, "parent_id": parent.id}).id)
    leaf_names = {
        cat_id: name for top in CATEGORY_TREE for cat_id, name in zip(leaves[top], CATEGORY_TREE[top], strict=True)
    }

    for name, owner_index, description, address, phone, tops in SHOPS:
        owner = users[owner_index]
        shop = shops.create_shop(
            owner,
            {
                "name": name,
                "description": description,
                "address": address,
                "phone": phone,
                "email": f"hello@{name.split()[0].lower()}.shopapp.example",
            },
        )
        used: set[str] = set()
        target = products_per_shop(tops)
        while len(used) < target:
            category_id = rng.choice([c for top in tops for c in leaves[top]])
            nouns, adjectives = ITEMS[leaf_names[category_id]]
            colour, noun = rng.choice(COLOURS), rng.choice(nouns)
            product_name = f"{colour} {rng.choice(adjectives)} {noun}"
            if product_name.lower() in used:
                continue
            used.add(product_name.lower())
            cents = rng.choice([499, 899, 1250, 1499, 1999, 2450, 2999, 3900, 4999, 7900, 12900, 18900])
            product = products.create_product(
                owner,
                {
                    "shop_id": shop.id,
                    "category_id": category_id,
                    "name": product_name,
                    "description": f"{product_name}. {rng.choice(DETAILS)} {rng.choice(DETAILS)}",
                    "price": Decimal(cents + rng.choice([0, 0, 100, -100])) / 100,
                    "stock": rng.choice([0, 0, 1, 3, 5, 8, 12, 20, 35, 60, 120]),
                    "is_active": rng.random() > 0.04,
                },
            )
            media.add_image(owner, product.id, demo_image(noun, colour, rng))
            on_product()
    return [(email, password) for email, _, password in OWNERS]
