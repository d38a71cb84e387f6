"""Decoding image payloads: base64, data URLs, and media types from the bytes."""

from __future__ import annotations

import pytest

from generation.openrouter import GeneratedImage, sniff_media_type
from generation.openrouter.media import (
    decode_b64_image,
    decode_base64,
    decode_data_url,
    media_type_for,
)
from tests.openrouter.payloads import JPEG, PNG, SVG, WEBP, b64, data_url

GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00"


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (GIF, "image/gif"),
        (AVIF, "image/avif"),
        (SVG, "image/svg+xml"),
        (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- x -->\n' + SVG, "image/svg+xml"),
        (b"<html><body>not an image</body></html>", None),
        (b"", None),
    ],
)
def test_sniff(data, media_type):
    assert sniff_media_type(data) == media_type


def test_media_type_prefers_the_bytes_then_the_label_then_png():
    assert media_type_for(JPEG, "image/png") == "image/jpeg"
    assert media_type_for(b"\x00\x01", "IMAGE/HEIC; q=1") == "image/heic"
    assert media_type_for(b"\x00\x01", "text/html") == "image/png"
    assert media_type_for(b"\x00\x01", None) == "image/png"


def test_data_urls():
    assert decode_data_url(data_url(PNG, "image/png")) == GeneratedImage(PNG, "image/png")
    assert decode_data_url(f"data:image/jpeg;charset=x;BASE64,{b64(JPEG)}").media_type == (
        "image/jpeg"
    )
    svg_url = "data:image/svg+xml,%3Csvg%20xmlns%3D%22http://www.w3.org/2000/svg%22/%3E"
    assert decode_data_url(svg_url) == GeneratedImage(
        b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"
    )


@pytest.mark.parametrize(
    "url",
    ["https://example.com/a.png", "data:image/png;base64", "data:image/png;base64,", "data:,"],
)
def test_bad_data_urls(url):
    with pytest.raises(ValueError, match=r"data URL|empty image"):
        decode_data_url(url)


def test_base64_tolerates_line_breaks_unless_strict():
    wrapped = "\n".join(b64(PNG)[i : i + 20] for i in range(0, len(b64(PNG)), 20))
    assert decode_base64(wrapped) == PNG
    with pytest.raises(ValueError, match="base64"):
        decode_base64(wrapped, strict=True)
    with pytest.raises(ValueError, match="ASCII"):
        decode_base64("abc\u00e9")


def test_b64_image_uses_declared_type_only_when_bytes_are_unknown():
    assert decode_b64_image(b64(SVG), "image/svg+xml").media_type == "image/svg+xml"
    assert decode_b64_image(b64(b"\x00raw"), "image/tiff").media_type == "image/tiff"
    with pytest.raises(ValueError, match="empty image"):
        decode_b64_image("")


def test_generated_image_repr_hides_the_bytes():
    assert repr(GeneratedImage(PNG, "image/png")) == (
        f"GeneratedImage(media_type='image/png', size={len(PNG)})"
    )
