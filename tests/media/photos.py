"""Real photographs for the upload tests, from Debian's wallpaper packages (scripts/ensure-photos.sh).

``photo(name)`` is the path of one of them; ``camera_photo()`` is a camera-sized 12 MP JPEG (3-5 MB,
EXIF orientation 6 as a phone held upright writes it, an ICC profile) made once from one of those photos,
with sensor-like grain so that it compresses like a camera's JPEG does. Without the photos the tests that
need them skip (and so fail under CI=true); ``make test`` fetches them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = Path(os.environ.get("PHOTOS_DIR", ROOT / ".cache" / "photos"))
CAMERA = "camera-12mp-portrait.jpg"
# Accepted photos nobody here made: (file, format, pixel size).
REAL = {
    "boats.jpg": ("JPEG", (2560, 1600)),
    "leaf.jpg": ("JPEG", (2560, 1600)),
    "cups.jpg": ("JPEG", (2560, 1600)),
    "forest.jpg": ("JPEG", (2560, 1600)),
    "pier.jpg": ("JPEG", (2560, 1600)),
    "moss.jpg": ("JPEG", (2560, 1600)),
    "landing-5120.jpg": ("JPEG", (5120, 2880)),
    "canopee-3840.png": ("PNG", (3840, 2160)),
    "cluster-3840.png": ("PNG", (3840, 2160)),
    "adwaita.webp": ("WEBP", (4096, 4096)),
    "pixels.webp": ("WEBP", (4096, 4096)),
}
TOO_LARGE = "patak-5120.png"  # 13.3 MB: over the 10 MB upload limit


def photo(name: str) -> Path:
    if name == CAMERA:
        return camera_photo()
    path = PHOTOS / name
    if not path.is_file():
        pytest.skip(f"{path} is missing: run scripts/ensure-photos.sh (make test does)")
    return path


def camera_photo() -> Path:
    """A portrait of the forest, stored 4000x3000 as a camera stores it (orientation 6), 3-5 MB, made once."""
    path = PHOTOS / CAMERA
    if path.is_file():
        return path
    from PIL import Image, ImageCms

    source = Image.open(photo("forest.jpg")).convert("RGB")
    width, height = source.size
    portrait = source.crop(((width - height * 3 // 4) // 2, 0, (width + height * 3 // 4) // 2, height))
    upright = portrait.resize((3000, 4000), Image.Resampling.LANCZOS)
    grain = Image.merge("RGB", [Image.effect_noise((3000, 4000), 18)] * 3)
    upright = Image.blend(upright, grain, 0.1)
    # A phone held upright stores its sensor's landscape frame and says "turn me 90 degrees clockwise".
    big = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    exif[0x010F] = "ShopApp test camera"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    big.save(out, "JPEG", quality=94, exif=exif, icc_profile=icc)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(out.getvalue())
    tmp.replace(path)
    return path
