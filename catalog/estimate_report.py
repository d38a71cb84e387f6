"""Darkroom's estimate against the emulator's charge, cell by cell.

A cell is one endpoint of a synced model asked for one image at one tier, one
quality (OpenAI's knob, including "none sent") and one style: the Image API
for every endpoint, and Chat Completions too for models that answer text as
well (their charge adds the text of the answer, and a chat request sends no
quality). For each cell the estimate comes from the synced catalog
(``catalog.estimates.estimate``) and the charge is ``usage.cost`` of a real
HTTP request to the emulator, pinned to the endpoint's provider. The ratio
is estimate / charge; a cell is within tolerance when it is between 0.9 and
1.1 (10%).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from catalog import estimates, price_words
from catalog.models import Endpoint, ImageModel

PROMPT = "A lighthouse on a cliff at dusk, waves below, warm light in the window"
TOLERANCE = Decimal("0.10")
# The emulator takes any key; this one is no secret and is never sent anywhere else.
EMULATOR_KEY = "sk-or-v1-estimate-report"
# The emulator answers chat image_size "0.5K" for the Image API's tier "512".
_CHAT_TIER = {"512": "0.5K"}


@dataclass(frozen=True, slots=True)
class Cell:
    """One request to price: ``tier``/``quality`` ``None`` mean "not sent"."""

    model: str
    provider: str
    style: str
    tier: str | None
    quality: str | None

    def params(self) -> dict[str, Any]:
        """The option values as Darkroom's forms hold them, for ``EstimateRequest``."""
        if self.style == "chat":
            return {"image_config.image_size": self.tier} if self.tier else {}
        values: dict[str, Any] = {}
        if self.tier:
            values["resolution"] = self.tier
        if self.quality:
            values["quality"] = self.quality
        return values

    def body(self) -> dict[str, Any]:
        """The HTTP request body for the emulator."""
        provider = {"only": [self.provider], "allow_fallbacks": False}
        if self.style == "chat":
            body: dict[str, Any] = {
                "model": self.model,
                "messages": [{"role": "user", "content": PROMPT}],
                "modalities": ["image", "text"],
                "max_tokens": 1024,
                "provider": provider,
            }
            if self.tier:
                body["image_config"] = {"image_size": _CHAT_TIER.get(self.tier, self.tier)}
            return body
        return {"model": self.model, "prompt": PROMPT, "provider": provider, **self.params()}


@dataclass(frozen=True, slots=True)
class Row:
    cell: Cell
    estimate: Decimal
    charge: Decimal | None
    error: str = ""

    @property
    def ratio(self) -> Decimal | None:
        if self.charge is None or self.charge <= 0:
            return None
        return self.estimate / self.charge

    @property
    def within(self) -> bool:
        ratio = self.ratio
        return ratio is not None and abs(ratio - 1) <= TOLERANCE


def _values(descriptor: object) -> list[str]:
    if isinstance(descriptor, dict) and descriptor.get("type") == "enum":
        return [str(value) for value in descriptor.get("values", [])]
    return []


def cells_for(endpoint: Endpoint) -> list[Cell]:
    """Every tier x quality x style this endpoint accepts."""
    model = endpoint.model
    parameters = endpoint.supported_parameters or {}
    tiers: list[str | None] = list(_values(parameters.get("resolution"))) or [None]
    qualities: list[str | None] = [None]
    qualities += [q for q in _values(parameters.get("quality")) if q]
    found = [
        Cell(model.slug, endpoint.provider_slug, "images", tier, quality)
        for tier in tiers
        for quality in qualities
    ]
    if "text" in (model.output_modalities or []):
        found += [Cell(model.slug, endpoint.provider_slug, "chat", tier, None) for tier in tiers]
    return found


def cells(models: Iterable[ImageModel]) -> list[Cell]:
    """The cells of every current endpoint of ``models``, in slug and provider order."""
    from catalog import selectors

    found: list[Cell] = []
    for model in sorted(models, key=lambda m: m.slug):
        for endpoint in sorted(selectors.current_endpoints(model), key=lambda e: e.provider_slug):
            endpoint.model = model
            found += cells_for(endpoint)
    return found


def estimate_of(cell: Cell) -> Decimal:
    """Darkroom's estimate for ``cell`` from the synced catalog."""
    endpoint = Endpoint.objects.select_related("model").get(
        model__slug=cell.model, provider_slug=cell.provider
    )
    request = estimates.EstimateRequest.from_params(
        style=cell.style, params=cell.params(), prompt_chars=len(PROMPT)
    )
    return estimates.estimate(endpoint, request).total


def charge_of(client: httpx.Client, cell: Cell) -> Decimal:
    """``usage.cost`` of the cell's request, as the emulator answered it."""
    path = "/chat/completions" if cell.style == "chat" else "/images"
    response = client.post(path, json=cell.body())
    if response.status_code != 200:
        message = response.json().get("error", {}).get("message", response.text[:200])
        raise ValueError(f"HTTP {response.status_code}: {message}")
    return Decimal(repr(response.json()["usage"]["cost"]))


def compare(emulator_url: str, wanted: Sequence[Cell], *, timeout: float = 120) -> list[Row]:
    """Price every cell both ways; a failed request is a row with its error, not an exception."""
    rows: list[Row] = []
    headers = {"Authorization": f"Bearer {EMULATOR_KEY}"}
    with httpx.Client(
        base_url=emulator_url.rstrip("/"), timeout=timeout, headers=headers
    ) as client:
        for cell in wanted:
            estimate = estimate_of(cell)
            try:
                rows.append(Row(cell, estimate, charge_of(client, cell)))
            except (ValueError, KeyError, httpx.HTTPError) as error:
                rows.append(Row(cell, estimate, None, str(error)))
    return rows


def all_within(rows: Sequence[Row]) -> bool:
    return bool(rows) and all(row.within for row in rows)


def render(rows: Sequence[Row]) -> str:
    """A plain-text table, one line per cell, and a final verdict line."""
    header = ("model", "provider", "style", "tier", "quality", "estimate", "charge", "ratio", "")
    table = [header]
    for row in rows:
        ratio = row.ratio
        table.append(
            (
                row.cell.model,
                row.cell.provider,
                row.cell.style,
                row.cell.tier or "-",
                (row.cell.quality or "(none)") if row.cell.style == "images" else "-",
                price_words.format_usd(row.estimate, places=6),
                price_words.format_usd(row.charge, places=6) if row.charge is not None else "-",
                f"{ratio:.3f}" if ratio is not None else "-",
                "ok" if row.within else (row.error or "OFF"),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = [
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in table
    ]
    off = [row for row in rows if not row.within]
    if all_within(rows):
        lines.append(f"Every cell within 10%: yes ({len(rows)} cells).")
    else:
        lines.append(f"Every cell within 10%: no ({len(off)} of {len(rows)} cells outside).")
    return "\n".join(lines)
