"""Turn untrusted upload bytes into clean WebP renditions, or refuse them quickly.

Only JPEG, PNG and WebP are accepted, decided by content. The image is fully decoded
(``verify()`` alone misses truncation), turned upright, converted to sRGB, stripped of
all metadata and re-encoded, so nothing of the uploaded bytes is ever served.

What an upload may cost is bounded before anything is decoded:

* Plausibility: from the header alone, the pixels a file declares must be plausible for its byte size and
  format, ``min(max_pixels, max(FLOOR_PIXELS, len(data) * PIXELS_PER_BYTE[format]))``, so a 2 kB file can
  no longer make a worker decode 40 megapixels. And no decode may need more than ``max_pixels * 4`` bytes.
* Decoding small: JPEG decodes at a reduced scale (``draft``); WebP decodes straight into one buffer
  (libwebp's ``WebPDecodeRGBAInto``), not through Pillow's animation decoder, which holds three canvases.
* Reducing first: the big integer reduction runs strip by strip on the decoded mode, so no full-size
  copy is made (Pillow's own ``reduce`` of RGBA premultiplies the whole image first); only the small
  image is turned upright, converted and colour-managed. The big image is released right after.
* A per-process gate (``decode_gate``) lets full decodes run together only up to a memory budget.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import io
import math
import re
import secrets
import struct
import threading
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageCms, UnidentifiedImageError

from shopapp.media.decode_gate import gate_for

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Longest side of each rendition: the product page's large image, the gallery and the cards.
RENDITIONS = {"large": 1600, "medium": 800, "small": 320}
WEBP_QUALITY = 82
# Markup, script or PHP inside an "image" means a polyglot: refuse it even if it decodes.
_MARKUP = re.compile(rb"<\s*(script|html|svg|iframe|object|embed|body|!doctype)|<\?php|javascript:", re.I)
_PNG_END = b"IEND\xaeB`\x82"

# Plausibility (see the README, Images): any file may declare FLOOR_PIXELS (2560x1600 fits; at most
# 16 MB to decode); beyond that, each byte of the file buys at most this many pixels. The real photos
# in tests/media/photos.py need at most 2.1 (PNG), 4.0 (WebP) and 7.8 (JPEG) pixels per byte, so these
# leave a margin of 5x and more, for flat product shots and graphics that compress far better.
FLOOR_PIXELS = 4_200_000
PIXELS_PER_BYTE = {"PNG": 10, "WEBP": 20, "JPEG": 64}
# Default per-process budget of concurrent decodes (IMAGE_DECODE_BUDGET_MB in the config).
DEFAULT_DECODE_BUDGET = 192 * 1024 * 1024  # one 40 MP decode (about 210 MB) runs alone
# The big reduction leaves at least this many times the large rendition's size for the final Lanczos
# (as Pillow's ``reducing_gap``; 1.5 keeps the reduced copy of a 40 MP image under 18 MB).
REDUCING_GAP = 1.5
STRIP_BYTES = 4 * 1024 * 1024  # the strip-wise reduction works on strips of about this size
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_REDUCIBLE = ("L", "LA", "RGB", "RGBA", "RGBX", "CMYK")  # modes Pillow's reduce takes as they are
# Pillow allocates a big image in blocks of 16 MB. glibc serves a freed block's size from the heap from then
# on (its mmap threshold follows the largest freed block, up to 32 MB), so a worker's RSS kept what its
# threads' arenas once held after each decode. Blocks above 32 MB are always mapped and given back on free.
Image.core.set_block_size(64 * 1024 * 1024)


class ImageRejected(ValueError):
    """The upload is not an image we accept; the message says why, for the user."""


@dataclass(frozen=True)
class ProcessedImage:
    key: str  # the storage name: the largest rendition's content hash and a random part (see process_image)
    width: int
    height: int
    renditions: dict[str, bytes]


@dataclass(frozen=True)
class WebPHeader:
    width: int
    height: int
    lossless: bool
    alpha: bool
    animated: bool


def process_image(data: bytes, max_pixels: int, *, decode_budget: int = DEFAULT_DECODE_BUDGET) -> ProcessedImage:
    """``decode_budget``: bytes this process's concurrent decodes may hold together (one larger runs alone)."""
    if _MARKUP.search(data):
        raise ImageRejected("The file contains markup or script; upload a plain JPEG, PNG or WebP image.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image, webp = _open(data, max_pixels)
        cost = decode_cost(image, webp)
        with gate_for(decode_budget).hold(cost):
            large = _decode(image, webp, data)
    renditions = {name: _encode(_fit(large, size)) for name, size in RENDITIONS.items()}
    # Every upload gets files of its own, even for the same picture: with one shared name, a transaction
    # that rolled back removed the files that a concurrent upload of the same content had committed.
    key = hashlib.sha256(renditions["large"]).hexdigest()[:24] + secrets.token_hex(8)
    width, height = fit_size(large.size, RENDITIONS["large"])
    return ProcessedImage(key=key, width=width, height=height, renditions=renditions)


def allowed_pixels(fmt: str, nbytes: int, max_pixels: int) -> int:
    """The most pixels a ``fmt`` file of ``nbytes`` bytes may declare."""
    return min(max_pixels, max(FLOOR_PIXELS, nbytes * PIXELS_PER_BYTE[fmt]))


def _check_plausible(fmt: str, size: tuple[int, int], nbytes: int, max_pixels: int) -> None:
    width, height = size
    if width < 1 or height < 1 or width * height > max_pixels:
        raise ImageRejected(f"The image is too large: at most {max_pixels // 1_000_000} megapixels.")
    if width * height > allowed_pixels(fmt, nbytes, max_pixels):
        raise ImageRejected(
            f"The file declares {width}x{height} pixels but holds only {_human(nbytes)}: that is not a "
            f"plausible {'WebP' if fmt == 'WEBP' else fmt} photo. Upload the original image file."
        )


def _human(nbytes: int) -> str:
    return f"{nbytes / 1e6:.1f} MB" if nbytes >= 1_000_000 else f"{max(1, round(nbytes / 1e3))} kB"


def _open(data: bytes, max_pixels: int) -> tuple[Image.Image, WebPHeader | None]:
    webp = None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        # Pillow's WebP plugin allocates its canvases when it opens the file: check the header first.
        webp = webp_header(data)
        _check_plausible("WEBP", (webp.width, webp.height), len(data), max_pixels)
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise ImageRejected("This is not a JPEG, PNG or WebP image.") from exc
        raise ImageRejected("The image has too many pixels.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageRejected("The image file is corrupt.") from exc
    _check_plausible(image.format or "", image.size, len(data), max_pixels)
    if image.format == "PNG" and not data.rstrip(b"\x00").endswith(_PNG_END):
        raise ImageRejected("The PNG file has data after its end; upload a plain image.")
    if image.format == "JPEG":
        # Decode at the smallest DCT scale that still gives the large rendition (1/2, 1/4 or 1/8).
        image.draft("RGB", fit_size(image.size, RENDITIONS["large"]))
    if _decoded_bytes(image, webp) > max_pixels * 4:
        most = max_pixels * 4 // _bytes_per_pixel(image, webp) // 1_000_000
        kind = image.format
        if webp is not None:
            kind = ("lossless " if webp.lossless else "animated " if webp.animated else "") + "WebP"
        raise ImageRejected(f"The image is too large for its format: at most {most} megapixels as {kind}.")
    return image, webp


def webp_header(data: bytes) -> WebPHeader:
    """Size and kind of a WebP file, from its first chunks (the simple VP8 and VP8L forms and VP8X)."""
    try:
        chunk = data[12:16]
        if chunk == b"VP8 ":
            if data[23:26] != b"\x9d\x01\x2a":
                raise ValueError("no VP8 start code")
            width, height = struct.unpack("<HH", data[26:30])
            return WebPHeader(width & 0x3FFF, height & 0x3FFF, lossless=False, alpha=False, animated=False)
        if chunk == b"VP8L":
            if data[20] != 0x2F:
                raise ValueError("no VP8L signature")
            (bits,) = struct.unpack("<I", data[21:25])
            return WebPHeader(
                (bits & 0x3FFF) + 1,
                ((bits >> 14) & 0x3FFF) + 1,
                lossless=True,
                alpha=bool(bits >> 28 & 1),
                animated=False,
            )
        if chunk == b"VP8X":
            flags = data[20]
            width = int.from_bytes(data[24:27], "little") + 1
            height = int.from_bytes(data[27:30], "little") + 1
            lossless, offset = False, 30
            while offset + 8 <= len(data):
                fourcc, size = data[offset : offset + 4], struct.unpack("<I", data[offset + 4 : offset + 8])[0]
                if fourcc in (b"VP8 ", b"VP8L"):
                    lossless = fourcc == b"VP8L"
                    break
                offset += 8 + size + (size & 1)
            return WebPHeader(width, height, lossless=lossless, alpha=bool(flags & 0x10), animated=bool(flags & 0x02))
    except (IndexError, struct.error, ValueError) as exc:
        raise ImageRejected("The WebP file is corrupt.") from exc
    raise ImageRejected("The WebP file is corrupt.")


def _bytes_per_pixel(image: Image.Image, webp: WebPHeader | None) -> int:
    """Memory per pixel of the decode itself."""
    if webp is not None:
        if webp.animated or _libwebp() is None:
            return 16  # Pillow's animation decoder: two libwebp canvases, a copy, then Pillow's image
        return 8 if webp.lossless else 4  # libwebp's lossless decoder keeps a full ARGB buffer of its own
    if image.mode in ("1", "L", "P"):
        return 1
    if image.mode.startswith("I;16"):
        return 2
    return 4  # RGB is stored with 4 bytes per pixel, like RGBA, LA, CMYK, I and F


def _decoded_bytes(image: Image.Image, webp: WebPHeader | None) -> int:
    width, height = image.size  # a JPEG's size after draft
    return width * height * _bytes_per_pixel(image, webp)


def decode_cost(image: Image.Image, webp: WebPHeader | None = None) -> int:
    """Estimated peak bytes of decoding and reducing ``image`` (opened, not loaded), for the gate."""
    width, height = image.size
    factor = reduce_factor(image.size)
    reduced = math.ceil(width / factor) * math.ceil(height / factor) * 4
    working = 3 * 4 * min(width * height, RENDITIONS["large"] ** 2)  # the large rendition, converted
    return _decoded_bytes(image, webp) + (reduced if factor > 1 or image.mode not in _REDUCIBLE else 0) + working


def reduce_factor(size: tuple[int, int]) -> int:
    return max(1, int(max(size) / (REDUCING_GAP * RENDITIONS["large"])))


def _decode(image: Image.Image, webp: WebPHeader | None, data: bytes) -> Image.Image:
    """Decode once, reduce while big, then turn upright, convert and colour-manage the small image."""
    try:
        if webp is not None and not webp.animated and _libwebp() is not None:
            icc, orientation = image.info.get("icc_profile"), _orientation(image)
            image.close()  # Pillow's decoder and its (untouched) canvases go
            big = decode_webp(data, webp)
        else:
            image.load()
            big, icc, orientation = image, image.info.get("icc_profile"), _orientation(image)
        has_alpha = big.mode in ("RGBA", "LA", "PA") or (big.mode == "P" and "transparency" in big.info)
        final_mode = "RGBA" if has_alpha else "RGB"
        mode = big.mode if big.mode in _REDUCIBLE else "L" if big.mode == "1" else final_mode
        reduced = strip_reduce(big, reduce_factor(big.size), mode)
        if reduced is not big:
            big.close()
        del big, image
        small = _fit(reduced, RENDITIONS["large"])
        del reduced
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected("The image file is truncated or corrupt.") from exc
    if orientation in _ORIENTATION:
        small = small.transpose(_ORIENTATION[orientation])
    if small.mode != final_mode:
        small = small.convert(final_mode)
    if icc:
        small = _to_srgb(small, icc)
    small.info = {}  # no EXIF, XMP, ICC or comments may travel into the renditions
    return small


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(ExifTags.Base.Orientation, 1))
    except (TypeError, ValueError, SyntaxError, struct.error):
        return 1


def strip_reduce(image: Image.Image, factor: int, mode: str | None = None) -> Image.Image:
    """``image.convert(mode).reduce(factor)``, pixel for pixel, without a full-size copy.

    Strips whose height is a multiple of ``factor`` are cropped, converted, reduced and pasted, so the
    extra memory is the result plus one strip. With nothing to do, ``image`` itself is returned.
    """
    mode = mode or image.mode
    if factor == 1 and mode == image.mode:
        return image
    width, height = image.size
    out = Image.new(mode, (math.ceil(width / factor), math.ceil(height / factor)))
    rows = max(factor, STRIP_BYTES // (width * 4) // factor * factor)
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(height, top + rows)))
        if strip.mode != mode:
            strip = strip.convert(mode)
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    return out


def decode_webp(data: bytes, header: WebPHeader) -> Image.Image:
    """A still WebP decoded by libwebp straight into one RGBA buffer that the image then shares."""
    lib = _libwebp()
    assert lib is not None
    width, height = header.width, header.height
    buffer = bytearray(width * height * 4)
    target = (ctypes.c_char * len(buffer)).from_buffer(buffer)
    try:
        if not lib.WebPDecodeRGBAInto(data, len(data), target, len(buffer), width * 4):
            raise ImageRejected("The WebP file is truncated or corrupt.")
    finally:
        del target  # the buffer may not be shared while exported
    mode = "RGBA" if header.alpha else "RGBX"
    return Image.frombuffer(mode, (width, height), buffer, "raw", mode, 0, 1)


_lib_lock = threading.Lock()
_lib: list[ctypes.CDLL | None] = []


def _libwebp() -> ctypes.CDLL | None:
    """The libwebp Pillow itself uses (found in this process's mappings), or the system's; None: none."""
    with _lib_lock:
        if not _lib:
            _lib.append(_load_libwebp())
        return _lib[0]


def _load_libwebp() -> ctypes.CDLL | None:
    from PIL import _webp  # noqa: F401 - loads the libwebp Pillow was built with

    candidates = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split(None, 5)[-1].strip()
                name = path.rsplit("/", 1)[-1]
                if name.startswith("libwebp") and not name.startswith(("libwebpdemux", "libwebpmux")):
                    candidates.append(path)
    except OSError:
        pass
    if found := ctypes.util.find_library("webp"):
        candidates.append(found)
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
            decode = lib.WebPDecodeRGBAInto
        except (OSError, AttributeError):
            continue
        decode.restype = ctypes.c_void_p
        decode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        return lib
    return None


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
