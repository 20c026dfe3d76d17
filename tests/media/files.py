"""Real image files (and fake ones) made on the fly for the upload tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def jpeg(size: tuple[int, int] = (640, 480), orientation: int | None = None, gps: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    image.paste((30, 60, 200), (0, 0, size[0] // 2, size[1]))  # left half blue, to see rotations
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x010F] = "SpyCam"
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[1] = "N"
        gps_ifd[2] = (51.0, 30.0, 12.5)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def png_with_alpha(size: tuple[int, int] = (300, 200)) -> bytes:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((20, 160, 60, 255), (50, 50, 250, 150))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def webp(size: tuple[int, int] = (500, 500)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 90, 20)).save(out, "WEBP")
    return out.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG that declares a gigantic canvas."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    data = jpeg((1200, 900))
    return data[: len(data) // 2]


SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="10"/></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PHP = b"<?php system($_GET['c']); ?>"


def png_html_polyglot() -> bytes:
    return png_with_alpha() + b"<html><script>alert(1)</script></html>"
