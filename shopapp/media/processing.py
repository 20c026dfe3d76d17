"""Turn untrusted upload bytes into clean WebP renditions, or refuse them quickly.

Only JPEG, PNG and WebP are accepted, decided by content. The image is fully decoded
(``verify()`` alone misses truncation), turned upright, converted to sRGB, stripped of
all metadata and re-encoded, so nothing of the uploaded bytes is ever served.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Longest side of each rendition: the product page's large image, the gallery and the cards.
RENDITIONS = {"large": 1600, "medium": 800, "small": 320}
WEBP_QUALITY = 82
# Markup, script or PHP inside an "image" means a polyglot: refuse it even if it decodes.
_MARKUP = re.compile(rb"<\s*(script|html|svg|iframe|object|embed|body|!doctype)|<\?php|javascript:", re.I)
_PNG_END = b"IEND\xaeB`\x82"


class ImageRejected(ValueError):
    """The upload is not an image we accept; the message says why, for the user."""


@dataclass(frozen=True)
class ProcessedImage:
    key: str  # the storage name: the largest rendition's content hash and a random part (see process_image)
    width: int
    height: int
    renditions: dict[str, bytes]


def process_image(data: bytes, max_pixels: int) -> ProcessedImage:
    if _MARKUP.search(data):
        raise ImageRejected("The file contains markup or script; upload a plain JPEG, PNG or WebP image.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = _open(data, max_pixels)
        large = _decode(image)
    renditions = {name: _encode(_fit(large, size)) for name, size in RENDITIONS.items()}
    # Every upload gets files of its own, even for the same picture: with one shared name, a transaction
    # that rolled back removed the files that a concurrent upload of the same content had committed.
    key = hashlib.sha256(renditions["large"]).hexdigest()[:24] + secrets.token_hex(8)
    width, height = fit_size(large.size, RENDITIONS["large"])
    return ProcessedImage(key=key, width=width, height=height, renditions=renditions)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise ImageRejected("This is not a JPEG, PNG or WebP image.") from exc
        raise ImageRejected("The image has too many pixels.") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected("The image file is corrupt.") from exc
    width, height = image.size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise ImageRejected(f"The image is too large: at most {max_pixels // 1_000_000} megapixels.")
    if image.format == "PNG" and not data.rstrip(b"\x00").endswith(_PNG_END):
        raise ImageRejected("The PNG file has data after its end; upload a plain image.")
    return image


def _decode(image: Image.Image) -> Image.Image:
    """Decode once, at the smallest scale that still gives the largest rendition (JPEG ``draft``)."""
    try:
        if image.format == "JPEG":
            image.draft("RGB", (RENDITIONS["large"], RENDITIONS["large"]))
        image.load()
        icc = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("The image file is truncated or corrupt.") from exc
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    converted = upright.convert("RGBA" if has_alpha else "RGB")
    if icc:
        converted = _to_srgb(converted, icc)
    converted.info = {}  # no EXIF, XMP, ICC or comments may travel into the renditions
    return _fit(converted, RENDITIONS["large"])


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode) or image
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are


def fit_size(size: tuple[int, int], longest: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, longest / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _fit(image: Image.Image, longest: int) -> Image.Image:
    target = fit_size(image.size, longest)
    if target == image.size:
        return image
    return image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()
