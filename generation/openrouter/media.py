"""Turning the image payloads OpenRouter sends into bytes.

Images arrive as plain base64 (``b64_json``) or as data URLs, possibly
megabytes long. Each is decoded once, straight from the parsed string; the
caller drops its reference to the string afterwards so that no more than one
encoded and one decoded copy exist at a time.
"""

from __future__ import annotations

import binascii
from urllib.parse import unquote_to_bytes

from generation.openrouter.types import GeneratedImage

DEFAULT_MEDIA_TYPE = "image/png"


def sniff_media_type(data: bytes) -> str | None:
    """The media type the bytes themselves announce, if they are a known image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<svg") or (
        head.startswith((b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in head
    ):
        return "image/svg+xml"
    return None


def _normalize(declared: str | None) -> str | None:
    if not declared:
        return None
    media_type = declared.split(";", 1)[0].strip().lower()
    return media_type if media_type.startswith("image/") else None


def media_type_for(data: bytes, declared: str | None) -> str:
    """What the bytes are: sniffed first (providers have labelled JPEG as PNG),
    then the declared type, then PNG, the documented default."""
    return sniff_media_type(data) or _normalize(declared) or DEFAULT_MEDIA_TYPE


def decode_base64(text: str, *, strict: bool = False) -> bytes:
    """Decode base64 from a ``str`` without an intermediate ``bytes`` copy.

    ``a2b_base64`` reads an ASCII ``str`` in place. Unless ``strict``,
    characters outside the alphabet (line breaks some encoders insert) are
    skipped; bad padding or non-ASCII text raises ``ValueError``.
    """
    return binascii.a2b_base64(text, strict_mode=strict)


def decode_b64_image(
    text: str, declared: str | None = None, *, strict: bool = False
) -> GeneratedImage:
    data = decode_base64(text, strict=strict)
    if not data:
        raise ValueError("empty image")
    return GeneratedImage(data, media_type_for(data, declared))


def is_data_url(url: str) -> bool:
    return url[:5].lower() == "data:"


def decode_data_url(url: str) -> GeneratedImage:
    """Decode ``data:image/…;base64,…`` (or a percent-encoded SVG data URL).

    Raises ``ValueError`` when the URL is not an image data URL.
    """
    # The header is short; only the payload is long, and it is sliced once.
    comma = url.find(",", 0, 512)
    if not is_data_url(url) or comma == -1:
        raise ValueError("not a data URL")
    params = url[5:comma].split(";")
    declared = params[0] or None
    if "base64" in (param.strip().lower() for param in params[1:]):
        data = decode_base64(url[comma + 1 :])
    else:
        data = unquote_to_bytes(url[comma + 1 :])
    if not data:
        raise ValueError("empty image")
    return GeneratedImage(data, media_type_for(data, declared))


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height read from a PNG, GIF, WebP or JPEG header, without decoding.

    ``None`` for anything else (SVG, unknown or damaged data). Used only to
    compare images of one answer, never to trust them.
    """
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
    except IndexError:
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(data[26:28], "little") & 0x3FFF,
            int.from_bytes(data[28:30], "little") & 0x3FFF,
        )
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


# Start-of-frame markers: every SOFn except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    # Headers are small; a frame marker far into the data means it is not there.
    limit = min(len(data), 1024 * 1024)
    while pos + 9 < limit:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in _JPEG_SOF:
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            return width, height
        pos += 2 + length
    return None
