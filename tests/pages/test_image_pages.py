"""The owner's image pages and how images show in the catalog, through the test client."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from shopapp.media import services as media
from shopapp.products.models import ProductImage
from tests.media import files
from tests.media.photos import photo
from tests.pages.conftest import HTMX, csrf_token, post, text


def upload(client, product_id: int, *named: tuple[str, bytes], alt: str = "", headers=None, token=None):
    data = {
        "csrf_token": token or csrf_token(client),
        "alt": alt,
        "images": [(io.BytesIO(content), name) for name, content in named],
    }
    return client.post(
        f"/dashboard/products/{product_id}/images", data=data, headers=headers or {}, content_type="multipart/form-data"
    )


def images_of(app, product_id: int) -> list[ProductImage]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return media.list_images(product_id)


def media_files(app) -> list[Path]:
    return [p for p in Path(app.config["MEDIA_ROOT"]).rglob("*.webp")]


def test_owner_uploads_several_images_all_or_none_and_every_refusal_is_reported(
    app, client, owner, make_shop, make_product
):
    product = make_product(shop=make_shop(owner=owner), name="Blue Mug")
    refused = upload(
        client,
        product.id,
        ("front.jpg", files.jpeg()),
        ("evil.jpg", files.HTML),
        ("side.png", files.png_with_alpha()),
        ("cut.jpg", files.truncated_jpeg()),
        alt="Mug on a table",
    )
    assert refused.status_code == 422
    page = text(refused)
    assert "evil.jpg: The file contains markup or script" in page
    assert "cut.jpg: The image file is truncated or corrupt." in page
    assert "None of the 4 images was added" in page and "0 of 10 images" in page
    assert images_of(app, product.id) == [] and media_files(app) == []

    added = upload(client, product.id, ("front.jpg", files.jpeg()), ("side.png", files.png_with_alpha()), alt="Mug")
    assert added.status_code == 302
    assert [i.alt for i in images_of(app, product.id)] == ["Mug", "Mug"]
    assert len(media_files(app)) == 6
    assert "2 images added." in text(client.get(added.headers["Location"]))


def test_each_file_gets_its_own_alt_text_when_the_form_sends_one_per_file(client, owner, make_shop, make_product, app):
    product = make_product(shop=make_shop(owner=owner), name="Jug")
    data = {
        "csrf_token": csrf_token(client),
        "images": [(io.BytesIO(files.jpeg()), "a.jpg"), (io.BytesIO(files.webp()), "b.webp")],
        "alt": ["Jug, front", ""],
    }
    response = client.post(f"/dashboard/products/{product.id}/images", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert [i.alt for i in images_of(app, product.id)] == ["Jug, front", "Jug"]


def test_owner_edits_an_alt_text_in_place_and_without_javascript(client, owner, make_shop, make_product, app):
    product = make_product(shop=make_shop(owner=owner), name="Bowl")
    upload(client, product.id, ("x.webp", files.webp()))
    image = images_of(app, product.id)[0]
    url = f"/dashboard/products/{product.id}/images/{image.id}/alt"
    fragment = post(client, url, {"alt": "Bowl, from above"}, headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in text(fragment)
    assert 'value="Bowl, from above"' in text(fragment)
    assert [i.alt for i in images_of(app, product.id)] == ["Bowl, from above"]
    too_long = post(client, url, {"alt": "x" * 301}, headers=HTMX)
    assert too_long.status_code == 422 and "Alt text: must be at most 300 characters" in text(too_long)
    assert [i.alt for i in images_of(app, product.id)] == ["Bowl, from above"]
    plain = post(client, url, {"alt": "  "})
    assert plain.status_code == 302
    assert [i.alt for i in images_of(app, product.id)] == ["Bowl"]
    assert "Alt text saved." in text(client.get(plain.headers["Location"]))


def test_alt_defaults_to_the_product_name_and_success_redirects(client, owner, make_shop, make_product, app):
    product = make_product(shop=make_shop(owner=owner), name="Green Vase")
    response = upload(client, product.id, ("vase.webp", files.webp()))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/dashboard/products/{product.id}/images"
    assert [i.alt for i in images_of(app, product.id)] == ["Green Vase"]
    page = text(client.get(response.headers["Location"]))
    assert "1 image added." in page and 'alt="Green Vase"' in page and "Primary image" in page


def test_htmx_upload_answers_with_the_gallery_fragment(client, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner=owner))
    response = upload(client, product.id, ("a.jpg", files.jpeg()), headers=HTMX)
    assert response.status_code == 200
    body = text(response)
    assert "<html" not in body and 'id="gallery"' in body and "1 of 10 images" in body
    assert "HX-Request" in response.headers.get("Vary", "")


def test_reorder_and_delete_with_confirmation(app, client, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner=owner))
    for size in ((300, 200), (200, 300)):
        upload(client, product.id, ("x.webp", files.webp(size)))
    first, second = [i.id for i in images_of(app, product.id)]
    post(client, f"/dashboard/products/{product.id}/images/{second}/move", {"position": "0"})
    assert [i.id for i in images_of(app, product.id)] == [second, first]

    confirm = client.get(f"/dashboard/products/{product.id}/images/{second}/delete")
    assert confirm.status_code == 200 and "Delete this image?" in text(confirm)
    assert len(images_of(app, product.id)) == 2  # a GET never deletes
    done = post(client, f"/dashboard/products/{product.id}/images/{second}/delete")
    assert done.status_code == 302
    assert [(i.id, i.position) for i in images_of(app, product.id)] == [(first, 0)]
    assert len(media_files(app)) == 3


def test_another_owners_images_are_unreachable(app, client, owner, make_product, make_image):
    theirs = make_product(name="Not Yours")
    make_image(theirs)
    image_id = images_of(app, theirs.id)[0].id
    assert client.get(f"/dashboard/products/{theirs.id}/images").status_code == 404
    assert upload(client, theirs.id, ("x.jpg", files.jpeg())).status_code == 404
    assert post(client, f"/dashboard/products/{theirs.id}/images/{image_id}/delete").status_code == 404
    assert post(client, f"/dashboard/products/{theirs.id}/images/{image_id}/move", {"position": "1"}).status_code == 404
    assert len(images_of(app, theirs.id)) == 1 and len(media_files(app)) == 3


def test_upload_without_csrf_token_is_refused(app, client, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner=owner))
    response = client.post(
        f"/dashboard/products/{product.id}/images",
        content_type="multipart/form-data",
        data={"images": [(io.BytesIO(files.jpeg()), "a.jpg")]},
    )
    assert response.status_code == 400
    assert images_of(app, product.id) == [] and media_files(app) == []


def test_cards_and_product_page_show_images_without_layout_shift(client, make_product, make_image):
    product = make_product(name="Pictured Lamp")
    make_image(product, files.jpeg((1200, 900)), alt="Lamp, lit")
    catalog = text(client.get("/"))
    card = re.search(r'<img [^>]*alt="Lamp, lit"[^>]*>', catalog).group(0)
    assert 'loading="lazy"' in card and 'width="320"' in card and 'height="240"' in card and "srcset=" in card
    detail = text(client.get(f"/products/{product.id}-{product.slug}"))
    gallery = re.search(r'<img [^>]*alt="Lamp, lit"[^>]*>', detail).group(0)
    assert "srcset=" in gallery and "1200w" in gallery and 'width="1200"' in gallery and 'height="900"' in gallery
    for url in re.findall(r'(/media/[^" ]+\.webp)', gallery):
        assert client.get(url).status_code == 200


def test_a_body_over_the_limit_is_a_form_error_on_the_page_with_and_without_htmx(
    app, client, owner, make_shop, make_product, monkeypatch
):
    product = make_product(shop=make_shop(owner=owner))
    app.config["MAX_UPLOAD_BYTES"] = 100 * 1024
    monkeypatch.setattr("shopapp.media.services.process_image", lambda *a: pytest.fail("processed"))
    big = [(f"{n}.jpg", b"\xff\xd8" + bytes(200_000)) for n in range(6)]
    reason = "The upload is too large: at most 10 images of up to 100 KB each."
    plain = upload(client, product.id, *big)
    assert plain.status_code == 413
    assert reason in text(plain) and 'class="upload-form"' in text(plain) and "<html" in text(plain)
    fragment = upload(client, product.id, *big, headers=HTMX)
    assert fragment.status_code == 413
    assert reason in text(fragment) and 'id="gallery"' in text(fragment) and "<html" not in text(fragment)
    assert images_of(app, product.id) == [] and media_files(app) == []


def test_one_file_over_the_size_limit_is_named_and_nothing_is_added(app, client, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner=owner))
    app.config["MAX_UPLOAD_BYTES"] = 100 * 1024
    response = upload(client, product.id, ("small.webp", files.webp()), ("big.jpg", photo("forest.jpg").read_bytes()))
    assert response.status_code == 413
    assert "big.jpg: The image is larger than 100 KB." in text(response)
    assert images_of(app, product.id) == [] and media_files(app) == []


def test_an_oversized_body_to_another_owners_product_is_404(client, owner, make_product, app):
    theirs = make_product()
    app.config["MAX_UPLOAD_BYTES"] = 100 * 1024
    response = upload(client, theirs.id, *[(f"{n}.jpg", bytes(200_000)) for n in range(6)])
    assert response.status_code == 404 and "The upload is too large" not in text(response)


def test_an_htmx_request_that_fails_gets_the_reason_retargeted_to_the_page_error_region(client, owner):
    response = client.get("/dashboard/products/999999/images", headers=HTMX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#request-error"
    assert response.headers["HX-Reswap"].startswith("innerHTML")
    body = text(response)
    assert "<html" not in body and 'role="alert"' in body and "We could not find that page" in body
    page = client.get("/dashboard/products/999999/images")
    assert page.status_code == 404 and "<html" in text(page) and "HX-Retarget" not in page.headers


def test_an_oversized_body_from_a_visitor_who_is_not_logged_in_is_refused_without_an_error(app, client, make_product):
    product = make_product()
    app.config["MAX_UPLOAD_BYTES"] = 100 * 1024
    response = client.post(
        f"/dashboard/products/{product.id}/images",
        content_type="multipart/form-data",
        data={"images": [(io.BytesIO(bytes(200_000)), f"{n}.jpg") for n in range(6)]},
    )
    assert response.status_code in (302, 404), text(response)
    assert "The upload is too large" not in text(response)
