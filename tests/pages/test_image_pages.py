"""The owner's image pages and how images show in the catalog, through the test client."""

from __future__ import annotations

import io
import re
from pathlib import Path

from shopapp.extensions import db
from shopapp.media import services as media
from shopapp.products.models import ProductImage
from tests.media import files
from tests.pages.conftest import HTMX, csrf_token, post, text


def upload(client, product_id: int, *named: tuple[str, bytes], alt: str = "", headers=None):
    data = {
        "csrf_token": csrf_token(client),
        "alt": alt,
        "images": [(io.BytesIO(content), name) for name, content in named],
    }
    return client.post(
        f"/dashboard/products/{product_id}/images", data=data, headers=headers or {}, content_type="multipart/form-data"
    )


def images_of(product_id: int) -> list[ProductImage]:
    db.session.rollback()
    return media.list_images(product_id)


def media_files(app) -> list[Path]:
    return [p for p in Path(app.config["MEDIA_ROOT"]).rglob("*.webp")]


def test_owner_uploads_several_images_and_refusals_are_reported_per_file(app, client, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner=owner), name="Blue Mug")
    response = upload(
        client,
        product.id,
        ("front.jpg", files.jpeg()),
        ("evil.jpg", files.HTML),
        ("side.png", files.png_with_alpha()),
        alt="Mug on a table",
    )
    assert response.status_code == 422
    page = text(response)
    assert "evil.jpg: The file contains markup or script" in page
    assert "2 of 10 images" in page
    assert [i.alt for i in images_of(product.id)] == ["Mug on a table", "Mug on a table"]
    assert len(media_files(app)) == 6


def test_alt_defaults_to_the_product_name_and_success_redirects(client, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner=owner), name="Green Vase")
    response = upload(client, product.id, ("vase.webp", files.webp()))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/dashboard/products/{product.id}/images"
    assert [i.alt for i in images_of(product.id)] == ["Green Vase"]
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
    first, second = [i.id for i in images_of(product.id)]
    post(client, f"/dashboard/products/{product.id}/images/{second}/move", {"direction": "earlier"})
    assert [i.id for i in images_of(product.id)] == [second, first]

    confirm = client.get(f"/dashboard/products/{product.id}/images/{second}/delete")
    assert confirm.status_code == 200 and "Delete this image?" in text(confirm)
    assert len(images_of(product.id)) == 2  # a GET never deletes
    done = post(client, f"/dashboard/products/{product.id}/images/{second}/delete")
    assert done.status_code == 302
    assert [(i.id, i.position) for i in images_of(product.id)] == [(first, 0)]
    assert len(media_files(app)) == 3


def test_another_owners_images_are_unreachable(app, client, owner, make_product):
    theirs = make_product(name="Not Yours")
    media.add_image(theirs.shop.owner, theirs.id, files.webp())
    db.session.commit()
    image_id = images_of(theirs.id)[0].id
    assert client.get(f"/dashboard/products/{theirs.id}/images").status_code == 404
    assert upload(client, theirs.id, ("x.jpg", files.jpeg())).status_code == 404
    assert post(client, f"/dashboard/products/{theirs.id}/images/{image_id}/delete").status_code == 404
    assert (
        post(client, f"/dashboard/products/{theirs.id}/images/{image_id}/move", {"direction": "later"}).status_code
        == 404
    )
    assert len(images_of(theirs.id)) == 1 and len(media_files(app)) == 3


def test_upload_without_csrf_token_is_refused(app, client, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner=owner))
    response = client.post(
        f"/dashboard/products/{product.id}/images",
        content_type="multipart/form-data",
        data={"images": [(io.BytesIO(files.jpeg()), "a.jpg")]},
    )
    assert response.status_code == 400
    assert images_of(product.id) == [] and media_files(app) == []


def test_cards_and_product_page_show_images_without_layout_shift(client, make_product):
    product = make_product(name="Pictured Lamp")
    media.add_image(product.shop.owner, product.id, files.jpeg((1200, 900)), alt="Lamp, lit")
    db.session.commit()
    catalog = text(client.get("/"))
    card = re.search(r'<img [^>]*alt="Lamp, lit"[^>]*>', catalog).group(0)
    assert 'loading="lazy"' in card and 'width="320"' in card and 'height="240"' in card and "srcset=" in card
    detail = text(client.get(f"/products/{product.id}-{product.slug}"))
    gallery = re.search(r'<img [^>]*alt="Lamp, lit"[^>]*>', detail).group(0)
    assert "srcset=" in gallery and "1200w" in gallery and 'width="1200"' in gallery and 'height="900"' in gallery
    for url in re.findall(r'(/media/[^" ]+\.webp)', gallery):
        assert client.get(url).status_code == 200
