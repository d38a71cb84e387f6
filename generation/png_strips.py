"""A PNG reduced while it is decoded, a strip of rows at a time.

Pillow decodes a PNG into one buffer of the whole image (64 MiB for a
4096x4096 RGBA), and PNG, unlike JPEG, has no smaller scale to decode at.
Here the compressed rows are inflated a strip at a time and each strip is
unfiltered by Pillow's own PNG decoder: the strip is handed to it as a tiny
PNG stream whose first row is the previous strip's last row, unfiltered (PNG
filters refer to the row above), stored with filter "none". Each strip is
then box-reduced into a small canvas, which is what ``Image.thumbnail`` does
first anyway, so the thumbnail comes out the same.

Only 8-bit grey, grey+alpha, RGB and RGBA, not interlaced, not animated: what
image models send. ``None`` for anything else; the caller decodes it whole.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Iterator

from PIL import Image as PILImage

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# (colour type, bit depth) -> (Pillow mode, bytes per pixel)
_MODES = {(0, 8): ("L", 1), (4, 8): ("LA", 2), (2, 8): ("RGB", 3), (6, 8): ("RGBA", 4)}
_PREMULTIPLIED = {"LA": "La", "RGBA": "RGBa"}
# Rows per strip, rounded to a multiple of the reduction factor.
STRIP_ROWS = 64


class DamagedPNG(ValueError):
    """The compressed pixel data is cut short or corrupt."""


def header(data: bytes) -> tuple[int, int, str, int] | None:
    """``(width, height, mode, bytes per pixel)`` of a PNG this module can
    reduce, else ``None`` (also for a PNG whose chunks are damaged: the
    caller's whole decode then says so)."""
    if not data.startswith(SIGNATURE) or data[12:16] != b"IHDR" or len(data) < 33:
        return None
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    found = _MODES.get((colour, depth))
    if found is None or interlace or width < 1 or height < 1:
        return None
    try:
        if any(kind == b"acTL" for kind, _ in _chunks(data)):
            return None  # animated: Pillow's default frame rules apply
    except DamagedPNG:
        return None
    return width, height, *found


def held_pixels(width: int, height: int, edge: int, reducing_gap: float) -> int:
    """About the pixels ``thumbnail`` holds at once: one strip three times (raw,
    stored again, decoded) and the reduced canvas."""
    size = fitted((width, height), edge) or (width, height)
    factor_x, factor_y = _factors((width, height), size, reducing_gap)
    strip = 3 * width * (_rows_per_strip(factor_y) + 1)
    return strip + math.ceil(width / factor_x) * math.ceil(height / factor_y)


def thumbnail(data: bytes, edge: int, reducing_gap: float) -> PILImage.Image:
    """The image shrunk to fit ``edge`` x ``edge``, as ``Image.thumbnail((edge,
    edge), reducing_gap=reducing_gap)`` makes it (bicubic: box-reduce first,
    then resize), never decoding more than one strip of full-size rows.
    ``data`` must pass ``header``. Raises ``DamagedPNG``."""
    found = header(data)
    if found is None:
        raise ValueError("not a PNG this decoder reads; check header() first")
    width, height, mode, _ = found
    size = fitted((width, height), edge)
    if size is None:
        size = (width, height)
    factor = _factors((width, height), size, reducing_gap)
    canvas = _reduced(data, found, factor)
    # Resampling with alpha works on premultiplied pixels (as Pillow does).
    box = (0.0, 0.0, width / factor[0], height / factor[1])
    resized = canvas.resize(size, PILImage.Resampling.BICUBIC, box=box)
    return resized.convert(mode) if resized.mode != mode else resized


def _factors(
    size: tuple[int, int], target: tuple[int, int], reducing_gap: float
) -> tuple[int, int]:
    # As Image.resize computes them.
    return (
        int(size[0] / target[0] / reducing_gap) or 1,
        int(size[1] / target[1] / reducing_gap) or 1,
    )


def fitted(size: tuple[int, int], edge: int) -> tuple[int, int] | None:
    """The size ``Image.thumbnail((edge, edge))`` gives; ``None`` when it fits already."""
    width, height = size
    if edge >= width and edge >= height:
        return None
    aspect = width / height
    x, y = edge, edge
    if x / y >= aspect:
        x = _round_aspect(y * aspect, lambda n: abs(aspect - n / y))
    else:
        y = _round_aspect(x / aspect, lambda n: 0 if n == 0 else abs(aspect - x / n))
    return x, y


def _round_aspect(number: float, key: Callable[[int], float]) -> int:
    return max(min(math.floor(number), math.ceil(number), key=key), 1)


def _reduced(
    data: bytes, found: tuple[int, int, str, int], factor: tuple[int, int]
) -> PILImage.Image:
    width, height, mode, bpp = found
    working = _PREMULTIPLIED.get(mode, mode)
    factor_x, factor_y = factor
    canvas = PILImage.new(working, (math.ceil(width / factor_x), math.ceil(height / factor_y)))
    rows_per_strip = _rows_per_strip(factor_y)
    row_bytes = width * bpp + 1
    previous: bytes | None = None
    y = 0
    for filtered in _filtered_strips(data, row_bytes * rows_per_strip):
        rows = min(len(filtered) // row_bytes, height - y)
        if rows <= 0:
            break
        strip = _unfilter(mode, width, previous, filtered[: rows * row_bytes], rows)
        previous = strip.crop((0, rows - 1, width, rows)).tobytes()
        if working != mode:
            strip = strip.convert(working)
        canvas.paste(strip.reduce(factor) if factor != (1, 1) else strip, (0, y // factor_y))
        y += rows
    if y < height:
        raise DamagedPNG(f"the image data ends after {y} of {height} rows")
    return canvas


def _rows_per_strip(factor_y: int) -> int:
    return max(1, STRIP_ROWS // factor_y) * factor_y


def _unfilter(
    mode: str, width: int, previous: bytes | None, filtered: bytes, rows: int
) -> PILImage.Image:
    if previous is None:
        stream, height = zlib.compress(filtered, 0), rows
    else:
        # Stored blocks (level 0): a copy, no compression work.
        stream, height = zlib.compress(b"\x00" + previous + filtered, 0), rows + 1
    try:
        strip = PILImage.frombytes(mode, (width, height), stream, "zip", mode)
    except ValueError:
        raise DamagedPNG("a row of the image data has an unknown filter") from None
    return strip if previous is None else strip.crop((0, 1, width, height))


def _chunks(data: bytes) -> Iterator[tuple[bytes, memoryview]]:
    view = memoryview(data)
    position = len(SIGNATURE)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = bytes(data[position + 4 : position + 8])
        start = position + 8
        if start + length > len(data):
            raise DamagedPNG("a chunk runs past the end of the data")
        yield kind, view[start : start + length]
        if kind == b"IEND":
            return
        position = start + length + 4  # the CRC: checked by Pillow's verify()


def _filtered_strips(data: bytes, strip_bytes: int) -> Iterator[bytes]:
    """The inflated rows (each with its filter byte), ``strip_bytes`` at a time;
    never more than that inflated at once."""
    inflater = zlib.decompressobj()
    buffer = bytearray()
    try:
        for kind, body in _chunks(data):
            if kind != b"IDAT":
                continue
            pending: bytes | memoryview = body
            while pending:
                buffer += inflater.decompress(pending, max(1, strip_bytes - len(buffer)))
                pending = inflater.unconsumed_tail
                if len(buffer) >= strip_bytes:
                    yield bytes(buffer[:strip_bytes])
                    del buffer[:strip_bytes]
            if inflater.eof:
                break
        buffer += inflater.flush()
    except zlib.error:
        raise DamagedPNG("the compressed image data is corrupt") from None
    while buffer:
        yield bytes(buffer[:strip_bytes])
        del buffer[:strip_bytes]
