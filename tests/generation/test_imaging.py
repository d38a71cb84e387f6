"""Only real, bounded images are stored; SVG comes out harmless."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image as PILImage

from generation import imaging


def png(width: int, height: int, mode: str = "RGB", alpha: int = 0) -> bytes:
    out = io.BytesIO()
    colour = (200, 80, 40, alpha) if mode == "RGBA" else (200, 80, 40)  # RGBA: see-through
    PILImage.new(mode, (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge canvas (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_raster_images_are_verified_and_thumbnailed(fmt: str, media_type: str) -> None:
    out = io.BytesIO()
    PILImage.new("RGB", (1344, 768), (10, 120, 200)).save(out, format=fmt)

    verified = imaging.verify(out.getvalue(), "image/png")  # the declared type is not trusted

    assert (verified.media_type, verified.width, verified.height) == (media_type, 1344, 768)
    # Opaque: a JPEG thumbnail (several times cheaper to encode than WebP).
    assert verified.thumbnail_media_type == "image/jpeg"
    with PILImage.open(io.BytesIO(verified.thumbnail)) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) == imaging.THUMBNAIL_EDGE
    assert len(verified.sha256) == 64


def test_an_rgba_image_with_every_pixel_opaque_gets_a_jpeg_thumbnail() -> None:
    verified = imaging.verify(png(64, 64, "RGBA", alpha=255), "image/png")

    assert verified.thumbnail_media_type == "image/jpeg"
    with PILImage.open(io.BytesIO(verified.thumbnail)) as thumb:
        assert (thumb.format, thumb.mode) == ("JPEG", "RGB")


def test_transparency_survives_in_the_thumbnail() -> None:
    verified = imaging.verify(png(64, 64, "RGBA"), "image/png")

    assert verified.thumbnail_media_type == "image/webp"
    with PILImage.open(io.BytesIO(verified.thumbnail)) as thumb:
        assert (thumb.format, thumb.mode) == ("WEBP", "RGBA")


def test_non_image_bytes_are_rejected() -> None:
    with pytest.raises(imaging.ImageRejected, match="not a valid image"):
        imaging.verify(b"this is not an image at all" * 10, "image/png")


def test_truncated_png_is_rejected() -> None:
    with pytest.raises(imaging.ImageRejected, match="incomplete or damaged"):
        imaging.verify(png(300, 300)[:200], "image/png")


@pytest.mark.parametrize(
    "data",
    [b"this is not an image at all" * 10, b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"GIF89a" + b"\1" * 9],
)
def test_rejections_carry_no_python_reprs_or_library_jargon(data: bytes) -> None:
    with pytest.raises(imaging.ImageRejected) as caught:
        imaging.verify(data, "image/png")
    message = str(caught.value)
    for jargon in ("<_io", " at 0x", "BytesIO", "DOS", "cannot identify", "Truncated File"):
        assert jargon not in message


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(imaging.ImageRejected) as caught:
        imaging.verify(bomb_png(30_000, 30_000), "image/png")
    # Pillow's own words ("decompression bomb DOS attack") are not for people.
    assert str(caught.value) == "the image declares 900 megapixels, more than the 64 allowed"


def test_image_between_cap_and_twice_cap_is_refused_too() -> None:
    with pytest.raises(imaging.ImageRejected) as caught:
        imaging.verify(bomb_png(9_000, 9_000), "image/png")  # 81 MP: Pillow only warns
    assert str(caught.value) == "the image declares 81 megapixels, more than the 64 allowed"


def test_unexpected_formats_are_refused() -> None:
    out = io.BytesIO()
    PILImage.new("RGB", (8, 8)).save(out, format="BMP")

    with pytest.raises(imaging.ImageRejected):
        imaging.verify(out.getvalue(), "image/bmp")


HOSTILE_SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="640" height="480" onload="alert(1)">
  <script>alert(document.cookie)</script>
  <rect width="640" height="480" fill="#123456" onclick="steal()"/>
  <image href="https://evil.example/track.png" width="10" height="10"/>
  <a xlink:href="javascript:alert(1)"><text x="10" y="20">click</text></a>
  <use xlink:href="https://evil.example/sprite.svg#x"/>
  <use href="#local"/>
  <circle cx="5" cy="5" r="5" style="fill: url(https://evil.example/x)"/>
  <foreignObject><div xmlns="http://www.w3.org/1999/xhtml">html</div></foreignObject>
</svg>"""


def test_hostile_svg_is_made_harmless() -> None:
    verified = imaging.verify(HOSTILE_SVG, "image/svg+xml")

    text = verified.data.decode()
    for bad in ("<script", "onload", "onclick", "evil.example", "javascript:", "foreignObject"):
        assert bad not in text, bad
    assert 'href="#local"' in text
    assert "#123456" in text
    assert (verified.media_type, verified.width, verified.height) == ("image/svg+xml", 640, 480)


def test_svg_with_entities_is_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>"""

    with pytest.raises(imaging.ImageRejected, match="DTD"):
        imaging.verify(bomb, "image/svg+xml")


def test_svg_size_from_viewbox() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1024 576"><rect width="1" height="1"/></svg>'

    assert imaging.verify(svg, "image/svg+xml").width == 1024


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/png")]
)
def test_reencoding_keeps_the_pixels_and_drops_metadata_and_tails(
    fmt: str, media_type: str
) -> None:
    source = io.BytesIO()
    exif = PILImage.Exif()
    exif[0x010E] = "secret description"  # ImageDescription
    image = PILImage.new("RGB", (40, 30), (250, 250, 250))
    if fmt == "GIF":
        image.save(source, format=fmt, comment=b"secret description")
    else:
        image.save(source, format=fmt, exif=exif)
    data = source.getvalue() + b"<html>secret</html>"

    clean = imaging.reencoded(imaging.verify(data, ""))

    assert clean.media_type == media_type
    assert (clean.width, clean.height) == (40, 30)
    assert b"secret" not in clean.data
    with PILImage.open(io.BytesIO(clean.data)) as reread:
        assert reread.size == (40, 30)
        assert "exif" not in reread.info


def test_reencoding_applies_the_orientation_exif_asked_for() -> None:
    source = io.BytesIO()
    exif = PILImage.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    PILImage.new("RGB", (40, 30), (0, 0, 0)).save(source, format="JPEG", exif=exif)

    clean = imaging.reencoded(imaging.verify(source.getvalue(), "image/jpeg"))

    assert (clean.width, clean.height) == (30, 40)


def test_svg_is_not_reencoded() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'

    with pytest.raises(imaging.ImageRejected):
        imaging.reencoded(imaging.verify(svg, "image/svg+xml"))
