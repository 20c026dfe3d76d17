"""Uploads of real photographs, several images in one request (all or none), alt texts, and the 413s.

Werkzeug checked the form-memory limit against its whole parse buffer, file parts included, so with a
64 KiB limit most photographs of a few hundred kB were refused with a 413 at random: the photos here
(nobody here made them) are what the suite's small flat-coloured images never caught.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from shopapp import create_app
from shopapp.core.uploads import PARSER_CHUNK
from tests.api.conftest import assert_problem
from tests.api.test_images import rows, stored, upload
from tests.media import files
from tests.media.photos import CAMERA, REAL, photo


def served_size(client, url: str) -> tuple[int, int]:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/webp"
    return Image.open(io.BytesIO(response.data)).size


def upright(size: tuple[int, int], longest: int = 1600) -> tuple[int, int]:
    scale = min(1.0, longest / max(size))
    return round(size[0] * scale), round(size[1] * scale)


@pytest.mark.parametrize("name", [CAMERA, *REAL])
def test_real_photographs_upload_and_are_served_upright_at_their_proportions(
    api, client, owner, make_shop, make_product, name
):
    path = photo(name)
    product = make_product(shop=make_shop(owner))
    response = upload(api, product, owner, path.read_bytes(), path.name)
    assert response.status_code == 201, response.get_data(as_text=True)
    image = response.get_json()
    shown = (3000, 4000) if name == CAMERA else REAL[name][1]  # the camera photo is stored turned (EXIF 6)
    assert (image["width"], image["height"]) == upright(shown)
    assert served_size(client, image["url"]) == upright(shown)
    assert served_size(client, image["thumbnail_url"]) == upright(shown, 320)


def test_a_form_memory_limit_that_refuses_photographs_is_refused_at_start_up(app_config):
    with pytest.raises(RuntimeError, match="MAX_FORM_MEMORY_SIZE"):
        create_app({**app_config, "MAX_FORM_MEMORY_SIZE": PARSER_CHUNK})


def test_a_text_part_over_the_form_memory_limit_is_still_413(api, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner))
    response = upload(api, product, owner, files.webp(), alt="x" * 600_000)
    body = assert_problem(response, 413)
    assert body["detail"] == "The image is larger than 10 MB."


def many(api, product, user, *named: tuple[str, bytes], alts: list[str] | None = None):
    data: dict = {"image": [(io.BytesIO(content), name) for name, content in named]}
    if alts is not None:
        data["alt"] = alts
    return api.post(f"/products/{product.id}/images", as_=user, content_type="multipart/form-data", data=data)


def test_several_images_in_one_request_each_with_its_alt(api, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner), name="Kettle")
    response = many(
        api,
        product,
        owner,
        ("a.jpg", photo("boats.jpg").read_bytes()),
        ("b.webp", files.webp()),
        ("c.png", files.png_with_alpha()),
        alts=["Kettle by the lake", "", "Kettle, cut out"],
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    images = response.get_json()
    assert [(i["position"], i["alt"]) for i in images] == [
        (0, "Kettle by the lake"),
        (1, "Kettle"),
        (2, "Kettle, cut out"),
    ]
    listed = api.get(f"/products/{product.id}").get_json()["images"]
    assert listed == images


def test_several_images_are_all_or_none_and_every_bad_file_is_named(app, api, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner))
    response = many(
        api,
        product,
        owner,
        ("good.jpg", files.jpeg()),
        ("evil.svg", files.SVG_WITH_SCRIPT),
        ("fine.webp", files.webp()),
        ("bomb.png", files.png_bomb()),
        alts=["ok", "ok", "x" * 301, "ok"],
    )
    body = assert_problem(response, 422, "image.1", "alt.2", "image.3")
    assert {e["field"]: e["message"] for e in body["errors"]}["alt.2"] == "must be at most 300 characters"
    assert rows(app) == 0 and stored(app) == []


def test_several_images_beyond_the_ten_image_limit_are_409_and_nothing_is_added(
    app, api, owner, make_shop, make_product
):
    product = make_product(shop=make_shop(owner))
    assert many(api, product, owner, *[(f"{n}.webp", files.webp((100 + n, 90))) for n in range(8)]).status_code == 201
    before = stored(app)
    body = assert_problem(
        many(api, product, owner, ("x.webp", files.webp()), ("y.webp", files.webp()), ("z.webp", files.webp())), 409
    )
    assert "it has 8, so 2 more can be added" in body["detail"]
    assert rows(app) == 8 and stored(app) == before


def test_alt_texts_must_match_the_images_one_for_one(api, owner, make_shop, make_product, app):
    product = make_product(shop=make_shop(owner))
    response = many(api, product, owner, ("a.webp", files.webp()), ("b.webp", files.webp()), alts=["only one"])
    body = assert_problem(response, 422, "alt")
    assert "2 images, 1 alt texts" in body["errors"][0]["message"]
    assert rows(app) == 0


def test_a_second_image_part_in_upload_image_is_422_never_dropped(api, owner, make_shop, make_product, app):
    product = make_product(shop=make_shop(owner))
    response = api.post(
        f"/products/{product.id}/upload-image",
        as_=owner,
        content_type="multipart/form-data",
        data={"image": [(io.BytesIO(files.webp()), "a.webp"), (io.BytesIO(files.jpeg()), "b.jpg")]},
    )
    body = assert_problem(response, 422, "image")
    assert "at most 1 image" in body["errors"][0]["message"]
    assert rows(app) == 0


def test_a_body_over_the_limit_is_413_in_the_apps_words_before_it_is_read(
    app, api, owner, make_shop, make_product, monkeypatch
):
    product = make_product(shop=make_shop(owner))
    app.config["MAX_UPLOAD_BYTES"] = 100 * 1024
    monkeypatch.setattr("shopapp.media.services.process_image", lambda *a: pytest.fail("processed"))
    big = b"\xff\xd8" + bytes(300_000)
    assert assert_problem(upload(api, product, owner, big), 413)["detail"] == "The image is larger than 100 KB."
    several = assert_problem(many(api, product, owner, *[(f"{n}.jpg", big) for n in range(5)]), 413)
    assert several["detail"] == "The upload is too large: at most 10 images of up to 100 KB each."
    assert rows(app) == 0 and stored(app) == []


def test_one_file_over_the_limit_among_several_is_413_naming_it(app, api, owner, make_shop, make_product):
    product = make_product(shop=make_shop(owner))
    app.config["MAX_UPLOAD_BYTES"] = 200 * 1024
    body = assert_problem(
        many(api, product, owner, ("a.webp", files.webp()), ("huge.jpg", photo("forest.jpg").read_bytes())), 413
    )
    assert body["detail"] == "The image is larger than 200 KB."
    assert body["errors"] == [{"field": "image.1", "message": "The image is larger than 200 KB."}]
    assert rows(app) == 0 and stored(app) == []


def test_alt_text_is_edited_after_upload(api, owner, other, make_shop, make_product):
    product = make_product(shop=make_shop(owner), name="Lamp")
    image = upload(api, product, owner, files.webp(), alt="Lamp").get_json()
    url = f"/products/{product.id}/images/{image['id']}"
    changed = api.patch(url, as_=owner, json={"alt": "Lamp, switched on"})
    assert changed.status_code == 200
    assert changed.get_json() == {**image, "alt": "Lamp, switched on"}
    assert api.get(f"/products/{product.id}").get_json()["images"][0]["alt"] == "Lamp, switched on"
    assert api.patch(url, as_=owner, json={"alt": " "}).get_json()["alt"] == "Lamp"
    assert_problem(api.patch(url, as_=owner, json={"alt": "x" * 301}), 422, "alt")
    assert_problem(api.patch(url, as_=owner, json={"alt": 5}), 422, "alt")
    assert_problem(api.patch(url, as_=other, json={"alt": "mine now"}), 403)
    assert_problem(api.patch(f"/products/{product.id}/images/999999", as_=owner, json={"alt": "x"}), 404)
    assert api.get(f"/products/{product.id}").get_json()["images"][0]["alt"] == "Lamp"
