"""The image pipeline with real files: what is accepted, how it is cleaned, what is refused."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from shopapp.core.errors import Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge
from shopapp.extensions import db
from shopapp.media import services as media
from shopapp.media.services import rendition_name
from shopapp.products.models import ProductImage
from tests.media import files


def stored_files(app) -> list[str]:
    root = Path(app.config["MEDIA_ROOT"])
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


def image_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(ProductImage))


def open_rendition(app, image: ProductImage, rendition: str = "large") -> Image.Image:
    path = Path(app.config["MEDIA_ROOT"]) / rendition_name(image.storage_key, rendition)
    return Image.open(io.BytesIO(path.read_bytes()))


def test_jpeg_with_exif_orientation_and_gps_comes_back_upright_and_clean(app, make_product, app_ctx):
    product = make_product()
    original = files.jpeg((640, 480), orientation=6, gps=True)
    image = media.add_image(product.shop.owner, product.id, original, alt="Front view")
    db.session.commit()
    assert (image.width, image.height) == (480, 640)  # rotated to upright
    large = open_rendition(app, image)
    assert large.format == "WEBP" and large.size == (480, 640)
    assert dict(large.getexif()) == {}
    assert not {"exif", "xmp", "icc_profile"} & set(large.info)
    # The blue left half of the sensor is at the top after a 90° clockwise turn.
    r, _g, b = large.convert("RGB").getpixel((240, 10))
    assert b > 150 and r < 100
    raw = (Path(app.config["MEDIA_ROOT"]) / rendition_name(image.storage_key, "large")).read_bytes()
    assert b"SpyCam" not in raw and raw != original


def test_thumbnails_are_made_for_cards_and_gallery(app, make_product, app_ctx):
    product = make_product()
    image = media.add_image(product.shop.owner, product.id, files.jpeg((3000, 2000)))
    db.session.commit()
    sizes = {name: open_rendition(app, image, name).size for name in ("large", "medium", "small")}
    assert sizes == {"large": (1600, 1067), "medium": (800, 534), "small": (320, 213)}
    assert (image.width, image.height) == (1600, 1067)
    assert image.alt == product.name  # alt text defaults to the product name
    assert len(stored_files(app)) == 3


def test_png_with_transparency_and_webp_are_accepted(app, make_product, app_ctx):
    product = make_product()
    owner = product.shop.owner
    png = media.add_image(owner, product.id, files.png_with_alpha())
    web = media.add_image(owner, product.id, files.webp())
    db.session.commit()
    assert open_rendition(app, png).mode == "RGBA"
    assert open_rendition(app, png).getpixel((0, 0))[3] == 0
    assert (web.width, web.height, web.position, png.position) == (500, 500, 1, 0)


REFUSED = {
    "png bomb": (files.png_bomb, Invalid),
    "truncated jpeg": (files.truncated_jpeg, Invalid),
    "svg with script": (lambda: files.SVG_WITH_SCRIPT, Invalid),
    "html named x.jpg": (lambda: files.HTML, Invalid),
    "pdf": (lambda: files.PDF, Invalid),
    "php named x.php.jpg": (lambda: files.PHP, Invalid),
    "png+html polyglot": (files.png_html_polyglot, Invalid),
    "11 MB": (lambda: os.urandom(11 * 1024 * 1024), PayloadTooLarge),
    "empty": (lambda: b"", Invalid),
}


@pytest.mark.parametrize("case", REFUSED, ids=list(REFUSED))
def test_bad_uploads_are_refused_fast_and_leave_nothing(app, make_product, case, app_ctx):
    make, error = REFUSED[case]
    product = make_product()
    data = make()
    started = time.thread_time()  # CPU of this thread: a busy machine doesn't slow it, a decode would
    with pytest.raises(error) as err:
        media.add_image(product.shop.owner, product.id, data)
    assert time.thread_time() - started < 1.0
    assert err.value.field == "image" and err.value.message
    db.session.rollback()
    assert image_rows() == 0
    assert stored_files(app) == []


def test_the_bomb_is_refused_before_decoding(make_product, app_ctx):
    product = make_product()
    data = files.png_bomb()
    assert len(data) < 1024
    with pytest.raises(Invalid, match="pixels"):
        media.add_image(product.shop.owner, product.id, data)


def test_an_eleventh_image_is_a_conflict(app, make_product, app_ctx):
    product = make_product()
    owner = product.shop.owner
    for n in range(10):
        media.add_image(owner, product.id, files.webp((100 + n, 100)))
    db.session.commit()
    before = stored_files(app)
    with pytest.raises(Conflict):
        media.add_image(owner, product.id, files.webp((300, 300)))
    db.session.rollback()
    assert image_rows() == 10 and stored_files(app) == before


def test_another_owners_product_is_refused(app, make_user, make_product, app_ctx):
    product = make_product()
    intruder = make_user()
    with pytest.raises(Forbidden):
        media.add_image(intruder, product.id, files.webp())
    db.session.rollback()
    assert image_rows() == 0 and stored_files(app) == []


def test_files_of_a_rolled_back_upload_are_removed(app, make_product, app_ctx):
    product = make_product()
    media.add_image(product.shop.owner, product.id, files.webp())
    assert len(stored_files(app)) == 3
    db.session.rollback()
    assert stored_files(app) == [] and image_rows() == 0


def test_deleted_image_files_go_only_after_commit(app, make_product, app_ctx):
    product = make_product()
    owner = product.shop.owner
    image = media.add_image(owner, product.id, files.webp())
    db.session.commit()
    media.delete_image(owner, product.id, image.id)
    assert len(stored_files(app)) == 3  # not yet: the delete could still roll back
    db.session.rollback()
    assert len(stored_files(app)) == 3 and image_rows() == 1
    media.delete_image(owner, product.id, image.id)
    db.session.commit()
    assert stored_files(app) == [] and image_rows() == 0


def test_identical_uploads_get_files_of_their_own(app, make_shop, make_product, app_ctx):
    shop = make_shop()
    first, second = make_product(shop=shop), make_product(shop=shop)
    data = files.webp()
    a = media.add_image(shop.owner, first.id, data)
    b = media.add_image(shop.owner, second.id, data)
    db.session.commit()
    assert a.storage_key != b.storage_key and len(stored_files(app)) == 6
    media.delete_image(shop.owner, first.id, a.id)
    db.session.commit()
    assert len(stored_files(app)) == 3 and all(b.storage_key in name for name in stored_files(app))


@pytest.mark.postgres_only
def test_a_rolled_back_upload_never_removes_files_a_concurrent_identical_upload_committed(
    app, make_shop, make_product, app_ctx
):
    """Two transactions at once (two app contexts, two sessions): one uploads, the other uploads the same
    picture and commits, then the first rolls back. (SQLite runs one writer at a time: no such overlap.)"""
    shop = make_shop()
    first, second = make_product(shop=shop), make_product(shop=shop)
    data = files.webp()
    media.add_image(shop.owner, first.id, data)
    with app.app_context():
        kept = media.add_image(shop.owner, second.id, data)
        db.session.commit()
        kept_key = kept.storage_key
    db.session.rollback()
    assert len(stored_files(app)) == 3 and all(kept_key in name for name in stored_files(app))


def test_a_file_shared_by_older_rows_is_kept_while_another_image_uses_it(app, make_shop, make_product, app_ctx):
    """Rows stored before each upload had files of its own may share them; deleting one keeps them."""
    shop = make_shop()
    first, second = make_product(shop=shop), make_product(shop=shop)
    a = media.add_image(shop.owner, first.id, files.webp())
    db.session.add(ProductImage(product_id=second.id, storage_key=a.storage_key, width=a.width, height=a.height))
    db.session.commit()
    media.delete_image(shop.owner, first.id, a.id)
    db.session.commit()
    assert len(stored_files(app)) == 3


def test_delete_image_of_another_product_by_id_is_refused(make_user, make_shop, make_product, app_ctx):
    shop = make_shop()
    mine, other = make_product(shop=shop), make_product()
    image = media.add_image(other.shop.owner, other.id, files.webp())
    db.session.commit()
    with pytest.raises(NotFound):
        media.delete_image(shop.owner, mine.id, image.id)


def test_reorder_images(make_product, app_ctx):
    product = make_product()
    owner = product.shop.owner
    ids = [media.add_image(owner, product.id, files.webp((100 + n, 100))).id for n in range(3)]
    db.session.commit()
    ordered = media.reorder_images(owner, product.id, [ids[2], ids[0], ids[1]])
    assert [(i.id, i.position) for i in ordered] == [(ids[2], 0), (ids[0], 1), (ids[1], 2)]
    for bad in ([ids[0], ids[1]], [ids[0], ids[0], ids[1]], [*ids, 999]):
        with pytest.raises(Invalid):
            media.reorder_images(owner, product.id, bad)
    media.delete_image(owner, product.id, ids[2])
    db.session.commit()
    assert [i.position for i in media.reorder_images(owner, product.id, [ids[1], ids[0]])] == [0, 1]


def test_media_is_served_with_cache_and_safety_headers(app, client, make_product, make_image):
    image = make_image(make_product(), files.jpeg())
    with app.test_request_context():
        url = media.image_urls(image)["small"]
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "image/webp"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in response.headers["Cache-Control"] and "max-age=31536000" in response.headers["Cache-Control"]
    assert Image.open(io.BytesIO(response.data)).size == (320, 240)
    etag = response.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize(
    "path", ["/media/../config.py", "/media/%2e%2e/x.webp", "/media/ab/missing.webp", "/media/ab/x.html"]
)
def test_media_paths_outside_or_missing_are_404(client, path):
    assert client.get(path).status_code == 404


def test_media_gc_removes_orphans_only(app, runner, make_product, make_image):
    image = make_image(make_product())
    orphan = Path(app.config["MEDIA_ROOT"]) / "zz" / "zzzz-small.webp"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"old")
    result = runner.invoke(args=["media-gc", "--grace-seconds", "0"])
    assert result.exit_code == 0, result.output
    assert "removed zz/zzzz-small.webp" in result.output and "1 orphaned file(s) removed." in result.output
    assert not orphan.exists()
    assert len(stored_files(app)) == 3 and image.storage_key in stored_files(app)[0]


def test_media_gc_spares_young_files(app, runner):
    young = Path(app.config["MEDIA_ROOT"]) / "yy" / "yyyy-small.webp"
    young.parent.mkdir(parents=True)
    young.write_bytes(b"in flight")
    result = runner.invoke(args=["media-gc"])
    assert "0 orphaned file(s) removed." in result.output and young.exists()
