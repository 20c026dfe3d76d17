"""Real photographs uploaded through a real HTTP server (waitress, tests/live.py), not the test client.

The test client hands Werkzeug the body in one piece; a server hands it over in chunks, as a browser or
a phone sends it, and that is where the parse-buffer 413 of real photos lived. Each upload here goes
through the API (bearer token) or the dashboard form (session cookie and CSRF token, with and without
htmx), then the served WebP is fetched back and looked at: upright, at the photo's proportions, and the
photo itself. A refused upload says why in the app's words and leaves no row and no file behind.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image, ImageChops, ImageOps, ImageStat
from sqlalchemy import func, select

from shopapp.extensions import db
from shopapp.products.models import ProductImage
from tests.api.test_image_uploads import upright
from tests.conftest import DEFAULT_PASSWORD
from tests.live import LiveServer
from tests.media.photos import CAMERA, REAL, TOO_LARGE, photo

pytestmark = pytest.mark.usefixtures("no_server_errors")

API = "/api/v1"
HTMX = {"HX-Request": "true"}
TIMEOUT = 60
REAL_JPEGS = [name for name, (kind, _) in REAL.items() if kind == "JPEG"]
WERKZEUG_413 = "exceeds the capacity limit"
_serial = count(1)
_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]+)"')
_GALLERY_IMG = re.compile(
    r'<li class="image-item"[^>]*>\s*<img src="([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]*)"'
)


def shown_size(name: str) -> tuple[int, int]:
    """The photo's size as people see it: the camera photo is stored 4000x3000 with EXIF orientation 6."""
    return (3000, 4000) if name == CAMERA else REAL[name][1]


@dataclass
class Owner:
    """A user registered through the API, with a shop and a product of their own."""

    live: LiveServer
    email: str
    api: requests.Session  # carries the bearer token
    product_id: int
    pages: requests.Session = field(default_factory=requests.Session)  # the browser's cookie jar

    def url(self, path: str) -> str:
        return self.live.url + path

    def upload_image(self, path: Path, alt: str | None = None) -> requests.Response:
        data = {"alt": alt} if alt is not None else {}
        with path.open("rb") as stream:
            return self.api.post(
                self.url(f"{API}/products/{self.product_id}/upload-image"),
                files={"image": (path.name, stream)},
                data=data,
                timeout=TIMEOUT,
            )

    def upload_images(self, paths: list[Path], alts: list[str] | None = None) -> requests.Response:
        parts = [("image", (path.name, path.read_bytes())) for path in paths]
        return self.api.post(
            self.url(f"{API}/products/{self.product_id}/images"),
            files=parts,
            data={"alt": alts} if alts is not None else {},
            timeout=TIMEOUT,
        )

    def log_in_through_the_pages(self) -> None:
        form = self.pages.get(self.url("/login"), timeout=TIMEOUT)
        response = self.pages.post(
            self.url("/login"),
            data={"csrf_token": csrf_token(form.text), "email": self.email, "password": DEFAULT_PASSWORD},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200 and "You are logged in." in response.text, response.text

    @property
    def images_page(self) -> str:
        return self.url(f"/dashboard/products/{self.product_id}/images")

    def post_form(self, paths: list[Path], alts: list[str], headers: dict[str, str] | None = None) -> requests.Response:
        """The images form as a browser sends it: the files, their alt texts and the page's CSRF token."""
        token = csrf_token(self.pages.get(self.images_page, timeout=TIMEOUT).text)
        parts = [("images", (path.name, path.read_bytes())) for path in paths]
        return self.pages.post(
            self.images_page,
            files=parts,
            data={"csrf_token": token, "alt": alts},
            headers=headers or {},
            timeout=TIMEOUT,
        )


def csrf_token(html: str) -> str:
    tag = _CSRF.search(html)
    assert tag, "no csrf_token input on the page"
    value = _VALUE.search(tag.group(0))
    assert value
    return value.group(1)


@pytest.fixture
def owner(live_server: LiveServer) -> Iterator[Owner]:
    n = next(_serial)
    email = f"http.owner.{n}@example.com"
    api = requests.Session()
    registered = api.post(
        live_server.url + f"{API}/users/register",
        json={"email": email, "password": DEFAULT_PASSWORD, "name": f"Http Owner {n}"},
        timeout=TIMEOUT,
    )
    assert registered.status_code == 201, registered.text
    login = api.post(
        live_server.url + f"{API}/users/login", json={"email": email, "password": DEFAULT_PASSWORD}, timeout=TIMEOUT
    )
    assert login.status_code == 200, login.text
    api.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    shop = api.post(live_server.url + f"{API}/shops", json={"name": f"Photo Shop {n}"}, timeout=TIMEOUT)
    assert shop.status_code == 201, shop.text
    product = api.post(
        live_server.url + f"{API}/products",
        json={"shop_id": shop.json()["id"], "name": f"Camera {n}", "price": "120.00", "stock": 3},
        timeout=TIMEOUT,
    )
    assert product.status_code == 201, product.text
    made = Owner(live_server, email, api, product.json()["id"])
    yield made
    api.close()
    made.pages.close()


def served(owner: Owner, url: str) -> Image.Image:
    response = requests.get(owner.url(url), timeout=TIMEOUT)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/webp"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "WEBP"
    image.load()
    return image


def assert_is_the_photo(image: Image.Image, path: Path) -> None:
    """The served image shows the photo the right way up: close to it, far from it turned over."""
    expected = ImageOps.exif_transpose(Image.open(path)).convert("RGB").resize((48, 48))
    got = image.convert("RGB").resize((48, 48))

    def distance(a: Image.Image) -> float:
        return sum(ImageStat.Stat(ImageChops.difference(a, got)).mean) / 3

    assert distance(expected) < 12, f"{path.name} is not what was served"
    assert distance(expected) < distance(expected.rotate(180)) / 2, f"{path.name} is served upside down"


def rows(live: LiveServer, product_id: int) -> int:
    with live.app.app_context():
        try:
            return db.session.scalar(select(func.count()).where(ProductImage.product_id == product_id)) or 0
        finally:
            db.session.remove()


def stored(live: LiveServer) -> list[Path]:
    return sorted(live.media_root.rglob("*.webp")) if live.media_root.exists() else []


def listed(owner: Owner) -> list[dict[str, Any]]:
    response = owner.api.get(owner.url(f"{API}/products/{owner.product_id}"), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["images"]


def assert_problem(response: requests.Response, status: int, detail: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert (body["status"], body["detail"]) == (status, detail), body


# --- the API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [CAMERA, "canopee-3840.png", "adwaita.webp"])
def test_one_photograph_through_upload_image_is_served_upright_at_its_proportions(owner: Owner, name: str) -> None:
    path = photo(name)
    response = owner.upload_image(path, alt=f"{name}, as taken")
    assert response.status_code == 201, response.text
    image = response.json()
    shown = shown_size(name)
    assert (image["width"], image["height"], image["alt"]) == (*upright(shown), f"{name}, as taken")
    large = served(owner, image["url"])
    assert large.size == upright(shown)
    if name == CAMERA:
        assert large.size == (1200, 1600)  # portrait, as the phone was held
    assert served(owner, image["thumbnail_url"]).size == upright(shown, 320)
    assert not large.getexif(), "the served image still carries the camera's EXIF"
    assert_is_the_photo(large, path)
    assert listed(owner) == [image]


def test_several_real_photographs_in_one_request_are_all_added_in_order(owner: Owner) -> None:
    paths = [photo(name) for name in REAL_JPEGS]
    alts = [f"Photo {n}: {path.stem}" for n, path in enumerate(paths)]
    response = owner.upload_images(paths, alts)
    assert response.status_code == 201, response.text
    images = response.json()
    assert [(i["position"], i["alt"], i["width"], i["height"]) for i in images] == [
        (n, alts[n], *upright(REAL[name][1])) for n, name in enumerate(REAL_JPEGS)
    ]
    assert len({i["url"] for i in images}) == len(paths)
    for image, path in zip(images, paths, strict=True):
        large = served(owner, image["url"])
        assert large.size == (image["width"], image["height"])
        assert_is_the_photo(large, path)
    assert listed(owner) == images
    assert rows(owner.live, owner.product_id) == len(paths)


def test_a_photo_over_10_mb_is_413_from_both_api_operations_and_nothing_is_stored(owner: Owner) -> None:
    big = photo(TOO_LARGE)
    assert big.stat().st_size > 10 * 1024 * 1024
    before = stored(owner.live)
    assert_problem(owner.upload_image(big), 413, "The image is larger than 10 MB.")
    # Under the ten-image body limit, so the file itself is measured, and the good photo is not kept either.
    assert_problem(owner.upload_images([photo("boats.jpg"), big]), 413, "The image is larger than 10 MB.")
    assert rows(owner.live, owner.product_id) == 0 and listed(owner) == []
    assert stored(owner.live) == before


# --- the dashboard form -----------------------------------------------------------------------------


def gallery_images(html: str) -> list[tuple[str, tuple[int, int], str]]:
    """Each gallery image: its src, its width and height attributes, its alt."""
    return [(src, (int(w), int(h)), alt) for src, w, h, alt in _GALLERY_IMG.findall(html)]


def test_the_camera_photo_through_the_form_without_javascript(owner: Owner) -> None:
    owner.log_in_through_the_pages()
    response = owner.post_form([photo(CAMERA)], ["A forest, held upright"])
    assert [r.status_code for r in response.history] in ([302], [303])
    assert response.status_code == 200 and response.url == owner.images_page
    assert "<html" in response.text and "1 image added." in response.text
    assert '<h2 id="gallery-heading">1 of 10 images</h2>' in response.text
    [(src, size, alt)] = gallery_images(response.text)
    assert alt == "A forest, held upright" and size == upright((3000, 4000), 320) == (240, 320)
    small = served(owner, src)
    assert small.size == size
    assert_is_the_photo(small, photo(CAMERA))


def test_two_photos_through_the_form_with_htmx_get_the_gallery_fragment(owner: Owner) -> None:
    owner.log_in_through_the_pages()
    paths = [photo("canopee-3840.png"), photo("pixels.webp")]
    response = owner.post_form(paths, ["The canopy", "Pixels"], headers=HTMX)
    assert response.status_code == 200, response.text
    assert response.text.lstrip().startswith('<section id="gallery"') and "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert "2 of 10 images" in response.text
    # The message comes with the fragment, out of band, and is not kept to show again on the next page.
    flashes = re.search(r'<div id="flashes"[^>]*hx-swap-oob="innerHTML">(.*?)</div>', response.text, re.S)
    assert flashes and "2 images added." in flashes.group(1), response.text
    assert "images added." not in owner.pages.get(owner.images_page, timeout=TIMEOUT).text
    images = gallery_images(response.text)
    assert [(size, alt) for _, size, alt in images] == [
        (upright(REAL["canopee-3840.png"][1], 320), "The canopy"),
        (upright(REAL["pixels.webp"][1], 320), "Pixels"),
    ]
    for (src, size, _), path in zip(images, paths, strict=True):
        small = served(owner, src)
        assert small.size == size
        assert_is_the_photo(small, path)
    assert rows(owner.live, owner.product_id) == 2


@pytest.mark.parametrize("htmx", [False, True], ids=["no-js", "htmx"])
def test_a_photo_over_10_mb_in_the_form_is_named_in_a_413_and_nothing_is_stored(owner: Owner, htmx: bool) -> None:
    owner.log_in_through_the_pages()
    before = stored(owner.live)
    response = owner.post_form([photo("boats.jpg"), photo(TOO_LARGE)], ["", ""], headers=HTMX if htmx else None)
    assert response.status_code == 413, response.text
    assert not response.history
    errors = re.search(r'<div class="form-errors" role="alert">(.*?)</div>', response.text, re.S)
    assert errors, response.text
    assert re.findall(r"<p>(.*?)</p>", errors.group(1)) == [
        f"{TOO_LARGE}: The image is larger than 10 MB.",
        "None of the 2 images was added; remove or replace the refused ones and try again.",
    ]
    assert WERKZEUG_413 not in response.text
    assert ("<html" in response.text) is not htmx
    assert (
        'name="images"' in response.text
    ) is not htmx  # the whole page, its form ready for another try; or the gallery
    assert "0 of 10 images" in response.text
    assert rows(owner.live, owner.product_id) == 0 and stored(owner.live) == before


def test_a_body_over_the_ten_image_limit_is_413_in_the_apps_words(owner: Owner) -> None:
    """Eight 13 MB files make a body over 10 x 10 MB: refused before it is read, by the body limit."""
    owner.log_in_through_the_pages()
    before = stored(owner.live)
    too_many = [photo(TOO_LARGE)] * 8
    page = owner.post_form(too_many, [""] * 8)
    assert page.status_code == 413, page.text
    assert "<p>The upload is too large: at most 10 images of up to 10 MB each.</p>" in page.text
    assert WERKZEUG_413 not in page.text and 'name="images"' in page.text
    assert_problem(
        owner.upload_images(too_many), 413, "The upload is too large: at most 10 images of up to 10 MB each."
    )
    assert rows(owner.live, owner.product_id) == 0 and stored(owner.live) == before
