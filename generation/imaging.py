"""Verifying what a model sent before it is stored: real images only, bounded work.

Raster images are opened by Pillow restricted to the formats models produce,
with a pixel cap checked from the header before anything is decoded. SVG is
active content (scripts, event handlers, external fetches), so it is rebuilt
from an allowlist of elements and attributes; the stored file is the cleaned
one, and it is still only ever served sandboxed.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from django.conf import settings as django_settings
from PIL import Image as PILImage
from PIL import ImageOps

from generation import png_strips
from generation.pixel_budget import PixelBudget

# 64 megapixels: above an 8K square. Pillow refuses twice this at open();
# between one and two times it only warns, and we make that warning an error.
MAX_PIXELS = 64_000_000
MAX_SVG_BYTES = 5 * 1024 * 1024
THUMBNAIL_EDGE = 512
# Shrink by whole factors first (box averaging, cheap), so a 1024 px image
# becomes 512 px with no resampling at all and larger ones resample only the
# last step.
THUMBNAIL_REDUCING_GAP = 1.0
# Only what image models produce: a rarely used decoder is where bombs hide.
RASTER_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}

# Pillow's own cap is process-wide; set once here (not per call: threads share it).
# Between one and two times the cap Pillow only warns; the size check in
# _verify_raster refuses those, so the warning adds nothing.
PILImage.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("ignore", category=PILImage.DecompressionBombWarning)

# PNGs larger than this are thumbnailed a strip of rows at a time
# (png_strips): whole, a 4K RGBA image is 64 MiB of pixels; below, decoding
# whole is cheaper and holds at most ~8 MiB.
STREAM_PNG_ABOVE_PIXELS = 2_100_000
# Without settings (a script, the emulator's tests): one largest image at a time.
DEFAULT_DECODE_MEGAPIXELS = MAX_PIXELS // 1_000_000
_budget: PixelBudget | None = None
_budget_lock = threading.Lock()


class ImageRejected(ValueError):
    """The bytes are not an image we are willing to store; the message says why."""


@dataclass(frozen=True)
class VerifiedImage:
    data: bytes = field(repr=False)
    media_type: str
    width: int
    height: int
    thumbnail: bytes = field(repr=False)
    thumbnail_media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def decode_budget() -> PixelBudget:
    """The process's bound on decoded pixels held at once (a worker with 200
    threads must not decode 200 images at once: network waits are unbounded,
    this step is not). ``DARKROOM_DECODE_MEGAPIXELS`` sets it."""
    global _budget
    with _budget_lock:
        if _budget is None:
            megapixels = DEFAULT_DECODE_MEGAPIXELS
            if django_settings.configured:
                megapixels = getattr(django_settings, "DARKROOM_DECODE_MEGAPIXELS", megapixels)
            _budget = PixelBudget(megapixels * 1_000_000)
        return _budget


@contextmanager
def decode_slot(pixels: int) -> Iterator[None]:
    """Hold ``pixels`` of the decode budget for the block."""
    with decode_budget().hold(pixels):
        yield


def verify(data: bytes, media_type: str) -> VerifiedImage:
    """Check ``data`` is a real image and make its thumbnail. Raises ``ImageRejected``."""
    if media_type == "image/svg+xml" or _looks_like_svg(data):
        return _verify_svg(data)
    return _verify_raster(data)


def _verify_raster(data: bytes) -> VerifiedImage:
    try:
        with PILImage.open(io.BytesIO(data), formats=list(RASTER_FORMATS)) as probe:
            fmt, (width, height) = probe.format, probe.size
            # Checked from the header, before a pixel is decoded (Pillow itself
            # only warns between one and two times its cap).
            if width * height > MAX_PIXELS:
                raise ImageRejected(_too_many_pixels(width * height))
            probe.verify()  # structure and checksums, without decoding pixels
        if not fmt or fmt not in RASTER_FORMATS:
            raise ImageRejected(
                f"the image format {fmt or 'unknown'} is not accepted (only {_ACCEPTED} are)"
            )
        thumbnail = _thumbnail(data, fmt, width, height)
    except PILImage.DecompressionBombError as exc:
        # Pillow's text ("…could be decompression bomb DOS attack") is not for people.
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        raise ImageRejected(
            _too_many_pixels(int(declared.group(1)) if declared else None)
        ) from None
    except ImageRejected:
        raise
    except PILImage.UnidentifiedImageError:
        raise ImageRejected(f"the data is not a valid image ({_ACCEPTED} are accepted)") from None
    except (OSError, SyntaxError, ValueError):  # png_strips.DamagedPNG is a ValueError
        # Pillow's messages name its internals (and print object reprs).
        raise ImageRejected("the image data is incomplete or damaged") from None
    return VerifiedImage(data, RASTER_FORMATS[fmt], width, height, *thumbnail)


_ACCEPTED = "PNG, JPEG, WebP and GIF"


def _thumbnail(data: bytes, fmt: str, width: int, height: int) -> tuple[bytes, str]:
    """The thumbnail and its media type, decoding no more than needed, inside
    the decode budget. Raises what Pillow or ``png_strips`` raise for damaged data."""
    if fmt == "PNG" and width * height > STREAM_PNG_ABOVE_PIXELS and png_strips.header(data):
        held = png_strips.held_pixels(width, height, THUMBNAIL_EDGE, THUMBNAIL_REDUCING_GAP)
        with decode_slot(held):
            return _encoded(png_strips.thumbnail(data, THUMBNAIL_EDGE, THUMBNAIL_REDUCING_GAP))
    with PILImage.open(io.BytesIO(data), formats=[fmt]) as image:
        image.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))  # JPEG: decode at 1/2..1/8 scale
        with decode_slot(image.size[0] * image.size[1]):
            shrunk: PILImage.Image = image
            if image.mode.startswith("I;16"):
                shrunk = image.convert("I")  # Pillow cannot box-reduce 16-bit grey
            shrunk.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), reducing_gap=THUMBNAIL_REDUCING_GAP)
            return _encoded(shrunk)


def _too_many_pixels(pixels: int | None) -> str:
    limit = MAX_PIXELS // 1_000_000
    if pixels is None:
        return f"the image declares more than the {limit} megapixels allowed"
    return f"the image declares {pixels / 1_000_000:,.0f} megapixels, more than the {limit} allowed"


def reencoded(verified: VerifiedImage) -> VerifiedImage:
    """A verified raster image saved anew from its pixels, in its own format (GIF
    as PNG): only image data survives, never trailing bytes, text chunks or
    EXIF, so an upload is not kept or sent on byte for byte. The orientation
    EXIF asked for is applied first; the colour profile is kept. One frame of
    an animation. Raises ``ImageRejected`` for SVG (it is rebuilt by ``verify``).
    """
    if verified.media_type == "image/svg+xml":
        raise ImageRejected("SVG is cleaned by verify, not re-encoded")
    out = io.BytesIO()
    pixels = verified.width * verified.height
    with decode_slot(pixels), PILImage.open(io.BytesIO(verified.data)) as opened:
        image = ImageOps.exif_transpose(opened)
        profile = opened.info.get("icc_profile")
        extra: dict[str, Any] = {"icc_profile": profile} if profile else {}
        has_alpha = "A" in image.getbands() or "transparency" in image.info
        if verified.media_type == "image/jpeg":
            if image.mode not in ("L", "RGB", "CMYK"):
                image = image.convert("RGB")
            image.save(out, format="JPEG", quality=95, **extra)
            media_type = "image/jpeg"
        elif verified.media_type == "image/webp":
            image = image.convert("RGBA" if has_alpha else "RGB")
            image.save(out, format="WEBP", quality=95, **extra)
            media_type = "image/webp"
        else:
            if image.mode not in ("1", "L", "LA", "I", "I;16", "RGB", "RGBA"):
                image = image.convert("RGBA" if has_alpha else "RGB")
            image.save(out, format="PNG", **extra)
            media_type = "image/png"
        width, height = image.size
    return VerifiedImage(
        out.getvalue(),
        media_type,
        width,
        height,
        verified.thumbnail,
        verified.thumbnail_media_type,
    )


def _encoded(image: PILImage.Image) -> tuple[bytes, str]:
    """A thumbnail's bytes and media type: JPEG when every pixel is opaque
    (libjpeg-turbo encodes a 512 px thumbnail in under a millisecond, WebP's
    fastest method takes about six), WebP when transparency must survive."""
    out = io.BytesIO()
    if _transparent(image):
        # method 0: a third larger than the default 4, at a fraction of its CPU.
        image.convert("RGBA").save(out, format="WEBP", quality=80, method=0)
        return out.getvalue(), "image/webp"
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.save(out, format="JPEG", quality=82)
    return out.getvalue(), "image/jpeg"


def _transparent(image: PILImage.Image) -> bool:
    if "transparency" in image.info:
        return True
    if "A" not in image.getbands():
        return False
    # Many models send RGBA with every pixel opaque: that needs no alpha.
    lowest, _ = cast(tuple[int, int], image.getchannel("A").getextrema())
    return lowest < 255


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head)


SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_SAFE_ELEMENTS = {
    "svg",
    "g",
    "defs",
    "title",
    "desc",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "symbol",
    "use",
    "marker",
    "filter",
    "feGaussianBlur",
    "feOffset",
    "feBlend",
    "feColorMatrix",
    "feComposite",
    "feFlood",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feDropShadow",
}
_URL_ATTRIBUTES = {"href", f"{{{XLINK_NS}}}href"}
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.IGNORECASE)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _verify_svg(data: bytes) -> VerifiedImage:
    if len(data) > MAX_SVG_BYTES:
        raise ImageRejected("the SVG is larger than 5 MiB")
    try:
        # A DTD is how entity-expansion bombs and external entities get in.
        root = parse_xml(data, forbid_dtd=True)
    except DefusedXmlException:
        raise ImageRejected("the SVG declares a DTD or entities, which are not allowed") from None
    except ElementTree.ParseError as exc:
        line, column = exc.position
        raise ImageRejected(
            f"the SVG is not well-formed XML (error at line {line}, column {column})"
        ) from None
    if _local(root.tag) != "svg":
        raise ImageRejected("the document is not an SVG image")
    _clean_svg(root)
    width, height = _svg_size(root)
    ElementTree.register_namespace("", SVG_NS)
    ElementTree.register_namespace("xlink", XLINK_NS)
    cleaned = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    # An SVG shown through <img> cannot run anything, so it is its own thumbnail.
    return VerifiedImage(cleaned, "image/svg+xml", width, height, cleaned, "image/svg+xml")


def _clean_svg(element: ElementTree.Element) -> None:
    for child in list(element):
        if not isinstance(child.tag, str) or _local(child.tag) not in _SAFE_ELEMENTS:
            element.remove(child)  # script, foreignObject, style, image, a, animate…
            continue
        _clean_svg(child)
    for name in list(element.attrib):
        value = element.attrib[name]
        local = _local(name).lower()
        if (
            local.startswith("on")
            or (name in _URL_ATTRIBUTES and not value.strip().startswith("#"))
            or _EXTERNAL_URL.search(value)
            or "javascript:" in value.lower()
        ):
            del element.attrib[name]


def _svg_size(root: ElementTree.Element) -> tuple[int, int]:
    def number(value: str | None) -> int | None:
        match = re.match(r"\s*([0-9.]+)\s*(px)?\s*$", value or "")
        return round(float(match.group(1))) if match else None

    width, height = number(root.get("width")), number(root.get("height"))
    if width and height:
        return width, height
    box = (root.get("viewBox") or "").replace(",", " ").split()
    if len(box) == 4:
        try:
            return round(float(box[2])), round(float(box[3]))
        except ValueError:
            pass
    return 1024, 1024
