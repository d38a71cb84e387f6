"""Scenario "catalog": the catalog sync of 300 models x 3 endpoints, 200 ms a call.

Starts the bench stack, replaces the emulator's catalog with 300 image models
of 3 endpoints each (copies of one of its real models), and runs the sync in
this process, as the default-queue worker runs it, with every OpenRouter call
delayed by 200 ms (``--latency`` is not used: discovery is not generation) in
the client's HTTP transport. Three runs: the first (everything added), one
after every price changed, one with nothing changed; each prints its wall
time against the goal of 5 s, its queries, and the endpoint fetch threads
(``DARKROOM_CATALOG_SYNC_THREADS``). A run with the 4 threads the sync used
to have shows what the threads bought, and the fetch alone without the delay
what the emulator and parsing cost (the floor no thread count lowers).
"""

from __future__ import annotations

import argparse
import copy
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench import stack as bench_stack

MODELS = 300
ENDPOINTS = 3
CALL_DELAY = 0.2
GOAL_SECONDS = 5.0
OLD_THREADS = 4


class Delayed(httpx.BaseTransport):
    """Every request waits ``delay`` seconds before it is sent: an upstream that
    takes that long to answer."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(self.delay)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@dataclass(frozen=True)
class Result:
    name: str
    threads: int
    seconds: float
    queries: int
    status: str
    summary: str


def _catalog(template: dict[str, Any], cost_step: int) -> list[dict[str, Any]]:
    models = []
    for index in range(MODELS):
        model = copy.deepcopy(template)
        model["id"] = f"bench/model-{index:03}"
        model["name"] = f"Bench model {index}"
        first = template["endpoints"][0]
        endpoints = []
        for number in range(ENDPOINTS):
            endpoint = copy.deepcopy(first)
            endpoint["provider_name"] = f"Provider {number}"
            endpoint["provider_slug"] = f"provider-{number}"
            endpoint["provider_tag"] = f"provider-{number}"
            endpoint["pricing"] = [
                {
                    "billable": "output_image",
                    "unit": "image",
                    "cost_usd": (10 + number + index % 7 + cost_step) / 1000,
                }
            ]
            endpoints.append(endpoint)
        model["endpoints"] = endpoints
        models.append(model)
    return models


def run(args: argparse.Namespace) -> int:
    print("Starting the stack…", flush=True)
    with bench_stack.running(worker_concurrency=4) as stack:
        return _measure(stack)


def _measure(stack: bench_stack.Stack) -> int:
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from catalog.fetching import fetch_catalog
    from catalog.sync import sync_catalog
    from generation.openrouter import EMULATOR_API_KEY, OpenRouterClient

    control = httpx.Client(base_url=f"{stack.emulator_url}/__emulator__", timeout=30)
    current = control.get("/catalog").json()
    template = next(
        model for model in current["image_models"] if model.get("endpoints") and "/" in model["id"]
    )

    def replace(cost_step: int) -> None:
        body = {"replace": {"image_models": _catalog(template, cost_step), "text_models": []}}
        control.post("/catalog", json=body).raise_for_status()

    def client() -> OpenRouterClient:
        return OpenRouterClient(
            EMULATOR_API_KEY, base_url=stack.emulator_url, transport=Delayed(CALL_DELAY)
        )

    threads = settings.DARKROOM_CATALOG_SYNC_THREADS
    results = []
    for name, cost_step, workers in (
        ("first sync: 300 models added", 0, threads),
        ("every price changed", 1, threads),
        ("nothing changed", 1, threads),
        ("nothing changed, the old 4 threads", 1, OLD_THREADS),
    ):
        replace(cost_step)
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            sync = sync_catalog("command", client_factory=client, workers=workers)
            seconds = time.perf_counter() - began
        results.append(Result(name, workers, seconds, len(queries), sync.status, sync.summary()))

    # What the same fetch costs without the 200 ms: the emulator answering and
    # this process parsing, i.e. the floor the threads cannot lower.
    def undelayed() -> OpenRouterClient:
        return OpenRouterClient(EMULATOR_API_KEY, base_url=stack.emulator_url, transport=Delayed(0))

    began = time.perf_counter()
    fetch_catalog(undelayed, workers=threads)
    floor = time.perf_counter() - began
    control.close()

    print(
        f"Catalog sync, {MODELS} models x {ENDPOINTS} endpoints, {CALL_DELAY * 1000:.0f} ms "
        f"per upstream call (goal ≤ {GOAL_SECONDS:g} s):"
    )
    print(f"  {'run':<36} {'threads':>7} {'wall':>7} {'queries':>7}  result")
    for result in results:
        verdict = "met" if result.seconds <= GOAL_SECONDS else "not met"
        print(
            f"  {result.name:<36} {result.threads:>7} {result.seconds:>6.2f}s "
            f"{result.queries:>7}  {result.status}, {verdict}: {result.summary}"
        )
    print(f"  the same fetch without the delay: {floor:.2f} s (emulator and parsing)")
    return 0
