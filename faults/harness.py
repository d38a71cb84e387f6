"""Driving the running stack for one scenario, and reading what happened.

A scenario submits jobs through the public API (``POST /api/v1/jobs``), each
prompt carrying a token (``fz<run>x<scenario>x<job>``) that survives the
emulator's directive stripping, so every ledger entry and request it logs can
be traced to its job. Afterwards ``Scenario.settle`` waits until every job is
final or its window closed, waits for the emulator to finish every request,
runs reconciliation (as the five-minute beat task would), and ``Scenario.count``
reads the job rows, the ledger and the bucket into a ``tally.Row``.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from bench.stack import Stack
from faults import tally

TOKEN = re.compile(r"fz[0-9a-f]{6}x\d{2}x\d{2}")
# One model per style, each known to the emulator; the Image API model streams.
MODELS = {
    "images": ("openai/gpt-image-1", {"quality": "low"}),
    "chat": ("google/gemini-2.5-flash-image", {}),
    "tool_chat": ("openai/gpt-5-image-mini", {"quality": "low"}),
    "tool_responses": ("openai/gpt-5-image-mini", {}),
}
STYLES = tuple(MODELS)
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Probe:
    """One request made during or after a fault, and the statuses that are right."""

    what: str
    status: int  # 0: no HTTP answer at all
    allowed: frozenset[int]
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in self.allowed

    def describe(self) -> str:
        answer = f"HTTP {self.status}" if self.status else f"no answer ({self.detail})"
        wanted = " or ".join(str(code) for code in sorted(self.allowed))
        return f"{self.what}: {answer}, expected {wanted}"


class Suite:
    """What all scenarios share: the stack, an API user, the storage ledger."""

    def __init__(self, stack: Stack) -> None:
        from django.contrib.auth.models import User

        from webapp import tokens

        self.stack = stack
        self.run_id = secrets.token_hex(3)
        user = User.objects.create_user(f"faults-{self.run_id}", password=None)
        self.api = httpx.Client(
            base_url=stack.web_url,
            headers={"Authorization": f"Bearer {tokens.create(user, 'fault suite')[1]}"},
            timeout=30,
        )
        self.emulator = httpx.Client(base_url=f"{stack.emulator_url}/__emulator__", timeout=10)
        self.orphans_seen: set[str] = set()
        self.reconcile_runs = 0

    def close(self) -> None:
        self.api.close()
        self.emulator.close()

    def bucket_keys(self) -> set[str]:
        """Every object in the bucket, read from the S3 server itself (never through
        the proxy a scenario may have told to refuse)."""
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.stack.s3_url,
            aws_access_key_id=self.stack.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.stack.env["AWS_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        keys: set[str] = set()
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.stack.env["S3_BUCKET"]
        ):
            keys.update(item["Key"] for item in page.get("Contents", []))
        return keys

    def any_image_id(self) -> str | None:
        from generation.models import Image

        image = Image.objects.order_by("-created_at").only("id").first()
        return str(image.pk) if image else None


@dataclass
class Scenario:
    """One scenario's run: its jobs, its probes, its notes."""

    suite: Suite
    number: int
    name: str
    started: float = field(default_factory=time.time)
    accepted: dict[str, str] = field(default_factory=dict)  # token -> job id
    refused: dict[str, str] = field(default_factory=dict)  # token -> what the API said
    expectations: dict[str, tally.Expectation] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"fz{self.suite.run_id}x{self.number:02d}x"

    # submitting and probing

    def submit(
        self, style: str, directive: str = "", *, images_expected: bool = True
    ) -> str | None:
        """Submit one job in ``style`` with ``directive`` in its prompt; returns its
        token, or None when the API did not answer 201 (noted)."""
        token = f"{self.prefix}{len(self.accepted) + len(self.refused):02d}"
        model, options = MODELS[style]
        body = {
            "prompt": f"{directive} {token} a lighthouse at dusk, film grain".strip(),
            "model": model,
            "style": style,
            "options": options,
        }
        self.expectations[token] = tally.Expectation(images_expected=images_expected)
        try:
            response = self.suite.api.post("/api/v1/jobs", json=body)
        except httpx.HTTPError as exc:
            self.refused[token] = f"no answer ({type(exc).__name__})"
            return None
        if response.status_code != 201:
            self.refused[token] = f"HTTP {response.status_code}"
            if response.status_code >= 500 and response.status_code != 503:
                self.probes.append(
                    Probe(
                        f"POST /api/v1/jobs ({style})", response.status_code, frozenset({201, 503})
                    )
                )
            return None
        self.accepted[token] = response.json()["id"]
        return token

    def probe(self, path: str, allowed: set[int], what: str = "") -> Probe:
        """GET ``path`` as the suite's user; the answer is judged against ``allowed``."""
        try:
            response = self.suite.api.get(path)
            probe = Probe(what or f"GET {path}", response.status_code, frozenset(allowed))
        except httpx.HTTPError as exc:
            probe = Probe(what or f"GET {path}", 0, frozenset(allowed), type(exc).__name__)
        self.probes.append(probe)
        return probe

    # waiting

    def rows(self) -> list[dict[str, Any]]:
        from generation.models import Job

        return [
            dict(row)
            for row in Job.objects.filter(prompt__contains=self.prefix).values(
                "id",
                "prompt",
                "status",
                "upstream_started_at",
                "created_at",
                "finished_at",
                "actual_cost",
                "confirmed_cost",
                "reserved_cost",
                "error_code",
                "error_message",
            )
        ]

    def wait_until(self, check: Callable[[list[dict[str, Any]]], bool], timeout: float) -> bool:
        """Poll the job rows until ``check`` holds; False when ``timeout`` passed.
        Database errors (the scenario's own fault) count as "not yet"."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if check(self.rows()):
                    return True
            except Exception:  # any database error during an outage: try again
                _close_connections()
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)

    def wait_calling(self, timeout: float = 30) -> bool:
        """Until every accepted job has called OpenRouter (or ended)."""
        return self.wait_until(
            lambda rows: (
                len(rows) >= len(self.accepted)
                and all(r["upstream_started_at"] or r["status"] in tally.FINAL for r in rows)
            ),
            timeout,
        )

    def settle(self, after: float, window: float) -> None:
        """Every job must be final by ``after + window`` (epoch seconds): wait for
        that or until all are, then for the emulator to finish every request of
        this scenario, then reconcile."""
        final_by = after + window
        for token in self.expectations:
            current = self.expectations[token]
            if current.final_by is None:
                self.expectations[token] = tally.Expectation(current.images_expected, final_by)
        self.wait_until(
            lambda rows: all(r["status"] in tally.FINAL for r in rows),
            max(0.0, final_by - time.time()),
        )
        self._wait_for_emulator(timeout=90)
        self._reconcile()

    def _wait_for_emulator(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entries = self.suite.emulator.get("/requests").json()["requests"]
            if not any(
                e["status"] is None and self.prefix in (e.get("prompt") or "") for e in entries
            ):
                return
            time.sleep(POLL_SECONDS)
        self.notes.append(f"the emulator was still answering after {timeout:.0f} s")

    def _reconcile(self) -> None:
        """What the five-minute beat task does, run now in this process. The
        emulator answers GET /generation with 404 for a second after a generation."""
        from costs import reconcile

        time.sleep(1.2)
        for _ in range(3):
            report = reconcile.reconcile()
            self.suite.reconcile_runs += 1
            if not report.pending:
                return
            time.sleep(1.0)

    # counting

    def count(self) -> tally.Row:
        from generation.models import Image

        _close_connections()  # a connection from before an outage may be broken
        keys = self.suite.bucket_keys()
        rows = self.rows()
        images: dict[str, list[tuple[str, str]]] = {}
        for image in Image.objects.filter(job__prompt__contains=self.prefix).values(
            "job_id", "original_key", "thumbnail_key"
        ):
            images.setdefault(str(image["job_id"]), []).append(
                (image["original_key"], image["thumbnail_key"])
            )
        records = {}
        for row in rows:
            match = TOKEN.search(row["prompt"])
            if not match:
                continue
            stored = images.get(str(row["id"]), [])
            records[match.group(0)] = tally.JobRecord(
                token=match.group(0),
                status=row["status"],
                created_at=row["created_at"].timestamp(),
                finished_at=row["finished_at"].timestamp() if row["finished_at"] else None,
                actual_cost=row["actual_cost"],
                confirmed_cost=row["confirmed_cost"],
                reserved_cost=row["reserved_cost"],
                images=len(stored),
                missing_objects=sum(
                    1 for original, thumb in stored if original not in keys or thumb not in keys
                ),
                error=f"{row['error_code']}: {row['error_message']}" if row["error_code"] else "",
            )
        referenced = set(Image.objects.values_list("original_key", flat=True)) | set(
            Image.objects.values_list("thumbnail_key", flat=True)
        )
        orphans = {key for key in keys - referenced if key.startswith(("images/", "thumbs/"))}
        new_orphans = orphans - self.suite.orphans_seen
        self.suite.orphans_seen |= orphans
        counted = tally.tally(
            self.name,
            accepted=set(self.accepted),
            records=records,
            charges=self._charges(),
            expectations=self.expectations,
            now=time.time(),
            orphans=len(new_orphans),
        )
        counted.probe_failures = [probe.describe() for probe in self.probes if not probe.ok]
        counted.notes = self.notes + _failure_summary(records)
        if self.refused:
            counted.notes.append(
                "submits not accepted: "
                + ", ".join(sorted(set(self.refused.values())))
                + f" ({len(self.refused)})"
            )
        counted.seconds = time.time() - self.started
        return counted

    def _charges(self) -> list[tally.Charge]:
        entries = self.suite.emulator.get("/ledger").json()["entries"]
        charges = []
        for entry in entries:
            match = TOKEN.search(entry.get("prompt") or "")
            if match and match.group(0).startswith(self.prefix):
                charges.append(
                    tally.Charge(
                        match.group(0),
                        Decimal(entry["cost"]),
                        int(entry.get("images") or 0),
                        str(entry.get("outcome") or "ok"),
                    )
                )
        return charges


def _failure_summary(records: dict[str, tally.JobRecord]) -> list[str]:
    """How the jobs that did not succeed ended, each distinct error once."""
    counts: dict[str, int] = {}
    for record in records.values():
        if record.status == "succeeded":
            continue
        what = record.error[:110] if record.final else f"still {record.status}"
        counts[what] = counts.get(what, 0) + 1
    return [f"{n} x {what}" for what, n in sorted(counts.items())]


def _close_connections() -> None:
    from django.db import connections

    for connection in connections.all():
        # A broken connection is what is being discarded: its error does not matter.
        with contextlib.suppress(Exception):
            connection.close()
