"""Output pixels by aspect ratio: the one table the estimates, the emulator and the tests share.

What a model draws for ``aspect_ratio`` at the 1K tier, per family (the seeds'
figures; Gemini 3.1's extended ratios have none, so those keep about one
megapixel). A higher tier scales both sides (``TIER_SCALE``). Django-free.
"""

from __future__ import annotations

from decimal import Decimal

Size = tuple[int, int]

STANDARD_1K: dict[str, Size] = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
    # Gemini 3.1's extended ratios: the seeds give no pixels; these keep about 1 MP.
    "1:4": (512, 2048),
    "4:1": (2048, 512),
    "1:8": (384, 3072),
    "8:1": (3072, 384),
}
MAI_1K: dict[str, Size] = {
    "1:1": (1024, 1024),
    "4:3": (1024, 768),
    "3:4": (768, 1024),
    "16:9": (1365, 768),
    "9:16": (768, 1365),
    "3:2": (1152, 768),
    "2:3": (768, 1152),
}
# OpenAI's GPT image models draw at these three sizes only (their image token table's shapes).
GPT_1K: dict[str, Size] = {"1:1": (1024, 1024), "3:2": (1536, 1024), "2:3": (1024, 1536)}
TIER_SCALE: dict[str, Decimal] = {
    "512": Decimal("0.5"),
    "1K": Decimal(1),
    "2K": Decimal(2),
    "4K": Decimal(4),
}
