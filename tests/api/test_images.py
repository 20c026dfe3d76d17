"""The image endpoints: upload (multipart), delete, reorder — and images in product responses."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from shopapp.extensions import db
from shopapp.products.models import ProductImage
from tests.api.conftest import assert_problem
from tests.media import files

IMAGE_FIELDS = {"id", "url", "thumbnail_url", "width", "height", "alt", "position"}


def upload(api, product, user, content: bytes, name: str = "photo.jpg", **form):
    return api.post(
        f"/products/{product.id}/upload-image",
        as_=user,
        content_type="multipart/form-data",
        data={"image": (io.BytesIO(content), name), **form},
    )


def stored(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(root.rglob("*.webp")) if root.exists() else []


def rows(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.query(ProductImage).count()


def test_upload_returns_the_image_and_the_product_lists_it(api, client, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner))
    response = upload(api, product, owner, files.jpeg((640, 480), orientation=6, gps=True), alt="Side view")
    assert response.status_code == 201, response.get_data(as_text=True)
    image = response.get_json()
    assert set(image) == IMAGE_FIELDS
    assert (image["width"], image["height"], image["alt"], image["position"]) == (480, 640, "Side view", 0)
    full = client.get(image["url"])
    assert full.mimetype == "image/webp" and full.headers["X-Content-Type-Options"] == "nosniff"
    served = Image.open(io.BytesIO(full.data))
    assert served.size == (480, 640) and dict(served.getexif()) == {}
    assert Image.open(io.BytesIO(client.get(image["thumbnail_url"]).data)).size == (240, 320)
    listed = api.get(f"/products/{product.id}").get_json()["images"]
    assert listed == [image]


def test_alt_defaults_to_the_product_name(api, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner), name="Teapot")
    assert upload(api, product, owner, files.png_with_alpha(), "x.php.jpg").get_json()["alt"] == "Teapot"


BAD = {
    "png bomb": files.png_bomb,
    "truncated jpeg": files.truncated_jpeg,
    "svg with script": lambda: files.SVG_WITH_SCRIPT,
    "html named x.jpg": lambda: files.HTML,
    "pdf": lambda: files.PDF,
    "png+html polyglot": files.png_html_polyglot,
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_images_are_422_and_leave_nothing(app, api, owner, make_shop, make_product, case):
    product = make_product(shop=make_shop(owner))
    response = upload(api, product, owner, BAD[case]())
    assert_problem(response, 422, "image")
    assert rows(app) == 0 and stored(app) == []


def test_too_large_is_413_before_processing(app, api, owner, make_shop, make_product, monkeypatch):
    product = make_product(shop=make_shop(owner))
    monkeypatch.setattr("shopapp.media.services.process_image", lambda *a: pytest.fail("processed"))
    assert_problem(upload(api, product, owner, os.urandom(11 * 1024 * 1024)), 413)
    assert rows(app) == 0 and stored(app) == []


def test_wrong_body_types_and_fields(api, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner))
    url = f"/products/{product.id}/upload-image"
    assert_problem(api.post(url, as_=owner, json={"image": "base64?"}), 415)
    assert_problem(api.post(url, as_=owner, data={"alt": "no file"}, content_type="multipart/form-data"), 422, "image")
    extra = api.post(
        url,
        as_=owner,
        content_type="multipart/form-data",
        data={"image": (io.BytesIO(files.webp()), "a.webp"), "owner_id": "2"},
    )
    assert_problem(extra, 422, "owner_id")


def test_eleventh_image_is_409(app, api, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner))
    for n in range(10):
        assert upload(api, product, owner, files.webp((100 + n, 90))).status_code == 201
    before = stored(app)
    assert_problem(upload(api, product, owner, files.webp((300, 300))), 409)
    assert rows(app) == 10 and stored(app) == before


def test_ownership_for_every_image_endpoint(app, api, owner, other, make_shop, make_product, make_image):
    product = make_product(shop=make_shop(owner))
    image = make_image(product)
    base = f"/products/{product.id}"
    for user, status in ((other, 403), (None, 401)):
        assert_problem(upload(api, product, user, files.jpeg()), status)
        several = {"image": [(io.BytesIO(files.jpeg()), "a.jpg"), (io.BytesIO(files.webp()), "b.webp")]}
        assert_problem(api.post(f"{base}/images", as_=user, content_type="multipart/form-data", data=several), status)
        assert_problem(api.delete(f"{base}/images/{image.id}", as_=user), status)
        assert_problem(api.put(f"{base}/images/order", as_=user, json={"image_ids": [image.id]}), status)
    assert rows(app) == 1 and len(stored(app)) == 3


def test_an_image_of_another_product_cannot_be_deleted_through_mine(
    api, owner, other, make_shop, make_product, app, make_image
):
    mine, theirs = make_product(shop=make_shop(owner)), make_product(shop=make_shop(other))
    their_image = make_image(theirs)
    assert_problem(api.delete(f"/products/{mine.id}/images/{their_image.id}", as_=owner), 404)
    assert rows(app) == 1


def test_delete_and_reorder(app, api, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner))
    ids = [upload(api, product, owner, files.webp((100 + n, 80))).get_json()["id"] for n in range(3)]
    ordered = api.put(f"/products/{product.id}/images/order", as_=owner, json={"image_ids": ids[::-1]})
    assert ordered.status_code == 200
    assert [(i["id"], i["position"]) for i in ordered.get_json()] == [(ids[2], 0), (ids[1], 1), (ids[0], 2)]
    bad = api.put(f"/products/{product.id}/images/order", as_=owner, json={"image_ids": ids[:2]})
    assert_problem(bad, 422, "image_ids")
    assert_problem(
        api.put(f"/products/{product.id}/images/order", as_=owner, json={"image_ids": ["1"]}), 422, "image_ids.0"
    )
    response = api.delete(f"/products/{product.id}/images/{ids[1]}", as_=owner)
    assert response.status_code == 204 and response.data == b""
    remaining = api.get(f"/products/{product.id}").get_json()["images"]
    assert [(i["id"], i["position"]) for i in remaining] == [(ids[2], 0), (ids[0], 1)]
    assert len(stored(app)) == 6
    assert_problem(api.delete(f"/products/{product.id}/images/{ids[1]}", as_=owner), 404)
