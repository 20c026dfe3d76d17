"""process_image on its own: plausibility from the header, real photos, modes, strip reduce, the gate.

tests/media/test_images.py covers the pipeline through the service (storage, rows, refusals by kind).
"""

from __future__ import annotations

import io
import threading
import time

import pytest
from PIL import Image

from shopapp.media import processing
from shopapp.media.decode_gate import DecodeGate, gate_for
from shopapp.media.processing import ImageRejected, process_image, strip_reduce
from tests.media.files import png_bomb
from tests.media.photos import REAL, camera_photo, photo

MAX_PIXELS = 40_000_000


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def tiny_40mp() -> dict[str, bytes]:
    return {
        "png": png_bomb(8000, 5000),
        "flat png": _save(Image.new("RGB", (8000, 5000), (10, 200, 10)), "PNG", compress_level=9),
        "lossless webp": _save(Image.new("RGB", (8000, 5000), (200, 30, 30)), "WEBP", lossless=True, method=0),
        "lossy webp": _save(Image.new("RGB", (8000, 5000), (200, 30, 30)), "WEBP", quality=10, method=0),
    }


@pytest.mark.parametrize("case", ["png", "flat png", "lossless webp", "lossy webp"])
def test_tiny_files_declaring_40_megapixels_are_refused_before_decoding(case, monkeypatch):
    data = tiny_40mp()[case]
    assert len(data) < 200_000
    decoded = []
    monkeypatch.setattr(processing, "_decode", lambda *a: decoded.append(a))
    started = time.thread_time()  # CPU of this thread: a busy machine doesn't slow it, a decode would
    with pytest.raises(ImageRejected, match=r"declares 8000x5000 pixels but holds only .* not a plausible"):
        process_image(data, MAX_PIXELS)
    assert time.thread_time() - started < 0.5 and decoded == []


def test_the_rule_scales_with_the_byte_size():
    assert processing.allowed_pixels("PNG", 1_000, MAX_PIXELS) == processing.FLOOR_PIXELS
    assert processing.allowed_pixels("PNG", 2_000_000, MAX_PIXELS) == 20_000_000
    assert processing.allowed_pixels("WEBP", 9_000_000, MAX_PIXELS) == MAX_PIXELS


def test_a_lossless_webp_may_not_need_more_than_a_png_of_40_megapixels():
    header = processing.WebPHeader(6000, 6000, lossless=True, alpha=False, animated=False)
    image = Image.new("RGB", (6000, 6000))
    assert processing._decoded_bytes(image, header) > MAX_PIXELS * 4  # refused by _open, with a message


@pytest.mark.parametrize("name", [*REAL, "camera"])
def test_every_real_photo_is_processed_upright_at_its_proportions(name):
    path = camera_photo() if name == "camera" else photo(name)
    _fmt, (width, height) = REAL.get(name, ("JPEG", (4000, 3000)))
    if name == "camera":
        width, height = 3000, 4000  # stored 4000x3000 with orientation 6: shown portrait
    result = process_image(path.read_bytes(), MAX_PIXELS)
    assert (result.width, result.height) == processing.fit_size((width, height), 1600)
    sizes = {}
    for rendition, blob in result.renditions.items():
        out = Image.open(io.BytesIO(blob))
        assert out.format == "WEBP" and not {"exif", "icc_profile", "xmp"} & set(out.info)
        sizes[rendition] = out.size
    assert sizes["large"] == (result.width, result.height)
    assert abs(sizes["small"][0] / sizes["small"][1] - width / height) < 0.02
    if name == "camera":
        assert sizes["large"] == (1200, 1600)


def test_the_camera_photo_is_turned_the_right_way():
    """Orientation 6: the sensor's left column is the shown image's top row."""
    source = Image.open(camera_photo())
    source.draft("RGB", (1000, 750))
    source = source.convert("RGB")
    left_column = source.crop((0, 0, 8, source.height)).resize((1, 32)).convert("L")
    result = Image.open(io.BytesIO(process_image(camera_photo().read_bytes(), MAX_PIXELS).renditions["small"]))
    top_row = result.convert("L").crop((0, 0, result.width, 4)).resize((32, 1))
    expected = list(left_column.tobytes())[::-1]  # rotated clockwise: bottom of the column comes first
    got = list(top_row.tobytes())
    assert sum(abs(a - b) for a, b in zip(expected, got, strict=True)) / 32 < 20


def test_transparency_is_kept_for_rgba_png_p_with_transparency_and_la():
    rgba = Image.new("RGBA", (5000, 800), (0, 0, 0, 0))  # within FLOOR_PIXELS; reduced by 2 first
    rgba.paste((20, 160, 60, 255), (1000, 200, 4000, 600))
    p = Image.new("P", (400, 300), 1)
    p.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    p.paste(0, (0, 0, 200, 300))
    la = Image.new("LA", (4900, 800), (128, 0))
    for image, opts in ((rgba, {}), (p, {"transparency": 1}), (la, {})):
        result = process_image(_save(image, "PNG", **opts), MAX_PIXELS)
        large = Image.open(io.BytesIO(result.renditions["large"]))
        assert large.mode == "RGBA", image.mode
        assert large.getpixel((2, 2))[3] == (255 if image.mode == "P" else 0)
        assert large.getpixel((large.width - 3, large.height // 2))[3] == 0, image.mode
    center = Image.open(io.BytesIO(process_image(_save(rgba, "PNG"), MAX_PIXELS).renditions["large"]))
    r, g, b, a = center.getpixel((800, 128))
    assert a == 255 and max(abs(r - 20), abs(g - 160), abs(b - 60)) <= 4  # lossy WebP rounds a little


@pytest.mark.parametrize("mode", ["1", "L", "I;16", "P", "RGB", "CMYK"])
def test_other_modes_come_out_as_rgb(mode):
    image = Image.new(mode, (5000, 800), 1 if mode in ("1", "P") else 100)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    result = process_image(_save(image, fmt), MAX_PIXELS)
    assert Image.open(io.BytesIO(result.renditions["large"])).mode == "RGB"
    assert (result.width, result.height) == (1600, 256)


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "L", "LA"])
@pytest.mark.parametrize("factor", [2, 3, 5])
def test_strip_reduce_equals_pillows_whole_image_reduce(mode, factor, monkeypatch):
    source = Image.open(photo("cluster-3840.png")).convert("RGBA").crop((0, 0, 1003, 701))
    source.putalpha(Image.linear_gradient("L").resize(source.size))
    image = source.convert(mode)
    monkeypatch.setattr(processing, "STRIP_BYTES", 1003 * 4 * 7)  # many strips, the last one partial
    assert strip_reduce(image, factor).tobytes() == image.reduce(factor).tobytes()


def test_strip_reduce_converts_like_convert_then_reduce(monkeypatch):
    image = Image.open(photo("cluster-3840.png")).convert("P").crop((0, 0, 999, 601))
    monkeypatch.setattr(processing, "STRIP_BYTES", 999 * 4 * 5)
    assert strip_reduce(image, 3, "RGB").tobytes() == image.convert("RGB").reduce(3).tobytes()


def test_the_gate_lets_one_decode_at_a_time_with_a_tiny_budget(monkeypatch):
    running, most, lock = [0], [0], threading.Lock()
    real_decode = processing._decode

    def counting(*args):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.05)
            return real_decode(*args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(processing, "_decode", counting)
    data = _save(Image.new("RGB", (900, 700), (1, 2, 3)), "PNG")
    threads = [
        threading.Thread(target=process_image, args=(data, MAX_PIXELS), kwargs={"decode_budget": 1024})
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    assert gate_for(1024).held == 0


def test_the_gate_runs_decodes_together_within_the_budget_and_in_order():
    gate, order, inside = DecodeGate(100), [], threading.Barrier(2, timeout=2)

    def small(n: int) -> None:
        with gate.hold(40):
            order.append(n)
            inside.wait()  # both 40s are inside at once, or this times out

    first = [threading.Thread(target=small, args=(n,)) for n in range(2)]
    for thread in first:
        thread.start()
    for thread in first:
        thread.join()
    assert sorted(order) == [0, 1] and gate.held == 0
    with gate.hold(10_000):  # larger than the budget: runs, alone
        assert gate.held == 100
    assert gate.held == 0
