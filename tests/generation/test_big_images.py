"""Big PNGs are thumbnailed a strip of rows at a time, inside the process's pixel
budget, with the same result as decoding them whole."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image as PILImage

from generation import imaging, png_strips
from generation.pixel_budget import PixelBudget


def noisy(width: int, height: int, mode: str) -> PILImage.Image:
    """Noise in every band: the PNG encoder then picks every row filter (Paeth, Avg…)."""
    bands = [PILImage.effect_noise((width, height), 30 + 12 * i) for i in range(len(mode))]
    return bands[0] if mode == "L" else PILImage.merge(mode, bands)


def encoded(image: PILImage.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", **options)
    return out.getvalue()


def whole_thumbnail(data: bytes) -> PILImage.Image:
    with PILImage.open(io.BytesIO(data)) as image:
        image.thumbnail(
            (imaging.THUMBNAIL_EDGE, imaging.THUMBNAIL_EDGE),
            reducing_gap=imaging.THUMBNAIL_REDUCING_GAP,
        )
        return image.copy()


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def with_idat(data: bytes, idat: bytes, height: int | None = None) -> bytes:
    """``data`` (a one-IDAT PNG) with its pixel data (and optionally its height) replaced."""
    width, old_height = struct.unpack(">II", data[16:24])
    ihdr = struct.pack(">II", width, height or old_height) + data[24:29]
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def only_idat(data: bytes) -> bytes:
    position, found = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        if data[position + 4 : position + 8] == b"IDAT":
            found += data[position + 8 : position + 8 + length]
        position += length + 12
    return found


@pytest.fixture
def budget(monkeypatch: pytest.MonkeyPatch) -> PixelBudget:
    fresh = PixelBudget(64_000_000)
    monkeypatch.setattr(imaging, "_budget", fresh)
    return fresh


@pytest.mark.parametrize(
    ("width", "height", "mode"),
    [
        (1201, 701, "RGB"),
        (700, 1603, "RGBA"),
        (1537, 333, "L"),
        (611, 977, "LA"),
        (300, 200, "RGB"),
    ],
)
def test_strip_thumbnail_is_the_whole_decode_thumbnail(width: int, height: int, mode: str) -> None:
    data = encoded(noisy(width, height, mode))

    streamed = png_strips.thumbnail(data, imaging.THUMBNAIL_EDGE, imaging.THUMBNAIL_REDUCING_GAP)

    expected = whole_thumbnail(data)
    assert (streamed.mode, streamed.size) == (expected.mode, expected.size)
    assert streamed.tobytes() == expected.tobytes()


def test_a_big_png_is_verified_holding_a_strip_not_the_image(budget: PixelBudget) -> None:
    width, height = 3000, 2000
    data = encoded(noisy(width, height, "RGBA"))

    verified = imaging.verify(data, "image/png")

    assert (verified.width, verified.height, verified.media_type) == (width, height, "image/png")
    # Whole: 6,000,000 pixels. A strip of 60 rows and the canvas reduced by 5
    # hold about 13 % of that (for a 4096x4096 image, about 4 %).
    assert 0 < budget.peak < width * height * 0.4
    with PILImage.open(io.BytesIO(verified.thumbnail)) as thumb:
        assert thumb.size == whole_thumbnail(data).size == (512, 341)
        assert thumb.mode == "RGBA"


@pytest.mark.parametrize(
    "image",
    [
        noisy(2000, 1500, "RGB").convert("P", palette=PILImage.Palette.ADAPTIVE),
        noisy(2000, 1500, "L").convert("I;16"),
    ],
    ids=["palette", "16-bit"],
)
def test_pngs_strips_cannot_read_are_decoded_whole(
    image: PILImage.Image, budget: PixelBudget
) -> None:
    data = encoded(image)
    assert png_strips.header(data) is None

    verified = imaging.verify(data, "image/png")

    assert budget.peak == 2000 * 1500
    with PILImage.open(io.BytesIO(verified.thumbnail)) as thumb:
        assert thumb.size == (512, 384)


def test_interlaced_pngs_are_left_to_the_whole_decode() -> None:
    data = encoded(noisy(400, 300, "RGB"))
    ihdr = data[16:28] + b"\x01"  # Pillow does not write Adam7: the header says it
    interlaced = data[:8] + chunk(b"IHDR", ihdr) + data[33:]

    assert png_strips.header(data) is not None
    assert png_strips.header(interlaced) is None


def test_corrupt_pixel_data_in_a_big_png_is_rejected_as_damaged() -> None:
    data = encoded(noisy(2100, 1100, "RGB"))
    idat = bytearray(only_idat(data))
    idat[len(idat) // 2 : len(idat) // 2 + 64] = b"\xff" * 64
    broken = with_idat(data, bytes(idat))

    with pytest.raises(png_strips.DamagedPNG):
        png_strips.thumbnail(broken, imaging.THUMBNAIL_EDGE, 1.0)
    with pytest.raises(imaging.ImageRejected, match="incomplete or damaged"):
        imaging.verify(broken, "image/png")


def test_a_big_png_with_fewer_rows_than_it_declares_is_rejected() -> None:
    data = encoded(noisy(2100, 1100, "RGB"))
    short = with_idat(data, only_idat(data), height=1400)

    with pytest.raises(png_strips.DamagedPNG, match="ends after 1100 of 1400 rows"):
        png_strips.thumbnail(short, imaging.THUMBNAIL_EDGE, 1.0)
    with pytest.raises(imaging.ImageRejected, match="incomplete or damaged"):
        imaging.verify(short, "image/png")


def test_an_unknown_row_filter_is_rejected_as_damaged() -> None:
    width, height = 2100, 1100
    rows = (b"\x07" + b"\x10" * width * 3) * height  # filter type 7 does not exist
    data = with_idat(encoded(PILImage.new("RGB", (width, height))), zlib.compress(rows))

    with pytest.raises(png_strips.DamagedPNG, match="unknown filter"):
        png_strips.thumbnail(data, imaging.THUMBNAIL_EDGE, imaging.THUMBNAIL_REDUCING_GAP)


def test_reencoding_holds_the_whole_image_from_the_budget(budget: PixelBudget) -> None:
    verified = imaging.verify(encoded(noisy(640, 480, "RGB")), "image/png")
    budget.peak = 0

    imaging.reencoded(verified)

    assert budget.peak == 640 * 480


def test_the_budget_follows_the_setting(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    settings.DARKROOM_DECODE_MEGAPIXELS = 12
    monkeypatch.setattr(imaging, "_budget", None)

    assert imaging.decode_budget().total == 12_000_000
