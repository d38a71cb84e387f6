"""`make screenshots`: every page of Darkroom, at 1440 px and 390 px, as PNGs in var/screenshots/.

Starts the real stack with production settings (``bench.stack``: PostgreSQL,
Redis, S3, the offline OpenRouter emulator, uvicorn and a Celery worker),
seeds demo data by generating through the emulator over the API (so the images,
costs and history are what a team would see), then logs in through the login
form as a staff member and as a member, and photographs each page in Debian's
Chromium. Exits 1 when a page scrolls sideways at 390 px (the page is still
photographed) or answers an error.

Files are named ``<who>-<page>-<width>.png``, e.g. ``member-gallery-390.png``.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import stack as bench_stack  # noqa: E402

# Debian's Chromium, as the browser tests run it (Playwright never downloads one here).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-sync",
]

WIDTHS = {1440: 900, 390: 844}
PASSWORD = "darkroom-demo"  # noqa: S105 - demo accounts on a throwaway database
STAFF, MEMBER = "ada", "ben"
GEMINI, GPT = "google/gemini-2.5-flash-image", "openai/gpt-image-1"
COMPARED = "a fox in a snowy birch forest, two ways"
# Pages a member is refused (photographed all the same: the refusal is a page too).
ADMIN_ONLY = ("costs", "members", "audit", "admin")

# (who, prompt, model, options): varied shapes, models and authors, and one failure.
DEMO_JOBS: list[tuple[str, str, str, dict[str, Any]]] = [
    (STAFF, "a lighthouse at dusk, film grain", GEMINI, {"aspect_ratio": "16:9"}),
    (STAFF, "a lighthouse in a storm, oil painting", GEMINI, {"aspect_ratio": "9:16"}),
    (STAFF, "a copper kettle on a wood stove, morning light", GPT, {}),
    (
        STAFF,
        "isometric cutaway of a victorian submarine engine room",
        GEMINI,
        {"aspect_ratio": "3:2"},
    ),
    (STAFF, "a paper crane on a desk, macro", GEMINI, {"aspect_ratio": "1:1"}),
    (MEMBER, "a fox in deep snow, telephoto", GEMINI, {"aspect_ratio": "4:3"}),
    (MEMBER, "a lighthouse at dusk, film grain", GEMINI, {"aspect_ratio": "16:9"}),
    (MEMBER, "neon signs reflected in rain, night street", GEMINI, {"aspect_ratio": "2:3"}),
    (MEMBER, "a tin robot watering plants, children's book", GPT, {}),
    (MEMBER, "a panorama of a mountain ridge at sunrise", GEMINI, {"aspect_ratio": "21:9"}),
    (MEMBER, "a bowl of ramen, top-down [emulator:fail=402]", GEMINI, {}),
]


@dataclass
class Demo:
    """What the pages are about: ids the page list needs."""

    image_id: uuid.UUID
    job_id: uuid.UUID
    board_id: int
    model_slug: str
    compare_job_id: uuid.UUID


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    # Open the viewer over the grid (the gallery) or the filter drawer (phones) first.
    action: str = ""


def seed(stack: bench_stack.Stack) -> Demo:
    """Users, generated images (through the API and the worker), a board, favourites."""
    from django.contrib.auth.models import User

    from gallery import services as gallery
    from generation.models import FINAL_STATUSES, Image, Job
    from webapp import tokens

    httpx.post(f"{stack.emulator_url}/__emulator__/config", json={"latency": 0}, timeout=10)
    users = {
        STAFF: User.objects.create_user(STAFF, password=PASSWORD, is_staff=True, is_superuser=True),
        MEMBER: User.objects.create_user(MEMBER, password=PASSWORD),
    }
    keys = {name: tokens.create(user, "screenshots")[1] for name, user in users.items()}
    job_ids = []
    # The last one compares two models side by side (its batch view is photographed).
    submissions = [(who, {"prompt": p, "model": m, "options": o}) for who, p, m, o in DEMO_JOBS]
    submissions.append((MEMBER, {"prompt": COMPARED, "model": GEMINI, "compare": [GPT]}))
    with httpx.Client(base_url=stack.web_url, timeout=30) as client:
        for who, body in submissions:
            prompt = body["prompt"]
            response = client.post(
                "/api/v1/jobs", json=body, headers={"Authorization": f"Bearer {keys[who]}"}
            )
            if response.status_code not in (200, 201, 202):
                raise SystemExit(
                    f"Seeding refused {prompt!r}: {response.status_code} {response.text}"
                )
            answer = response.json()
            batch = answer.get("batch") or {"jobs": [answer["id"]]}
            job_ids += [uuid.UUID(job_id) for job_id in batch["jobs"]]
            time.sleep(0.3)  # distinct times, as people submit them
    deadline = time.monotonic() + 180
    while Job.objects.filter(pk__in=job_ids).exclude(status__in=FINAL_STATUSES).exists():
        if time.monotonic() > deadline:
            raise SystemExit("The demo jobs did not finish within 3 minutes.")
        time.sleep(0.5)
    images = list(
        Image.objects.filter(job_id__in=job_ids).select_related("job").order_by("created_at")
    )
    if len(images) < 5:
        raise SystemExit(f"Only {len(images)} demo images were made; see the worker log.")
    board = gallery.create_board(
        users[STAFF], "Lighthouses", "Every lighthouse we tried, for the autumn poster."
    )
    gallery.add_to_board(users[STAFF], board, [i for i in images if "lighthouse" in i.job.prompt])
    gallery.create_board(users[MEMBER], "Book ideas")
    for image in images[::2]:
        gallery.set_favourite(users[MEMBER], image, True)
    first = images[0]
    compared = Job.objects.get(prompt=COMPARED, model_slug=GEMINI)
    return Demo(first.pk, first.job_id, board.pk, first.job.model_slug, compared.pk)


def shots(demo: Demo, staff: bool) -> list[Shot]:
    """Every page a person of this kind reaches."""
    from django.urls import reverse

    pages = [
        Shot("generate", "/"),
        Shot("gallery", "/gallery/"),
        Shot("gallery-viewer", "/gallery/", action="viewer"),
        Shot("gallery-filters", "/gallery/?author=ada", action="drawer"),
        Shot("image", f"/gallery/{demo.image_id}/"),
        Shot("boards", "/gallery/boards/"),
        Shot("board", f"/gallery/boards/{demo.board_id}/"),
        Shot("history", "/history/"),
        Shot("job", f"/jobs/{demo.job_id}/"),
        Shot("models", "/models/"),
        Shot("model", f"/models/{demo.model_slug}/"),
        Shot("compare", f"/jobs/{demo.compare_job_id}/"),
        Shot("usage", reverse("generation:usage")),
        Shot("costs", "/costs/"),
        Shot("members", reverse("team:members")),
        Shot("audit", reverse("team:audit")),
        Shot("profile", "/profile/"),
        Shot("api", "/api/v1/"),
    ]
    if staff:
        pages.append(Shot("admin", "/admin/"))
    return pages


def _settle(page: Any) -> None:
    """Wait until every image on the page has loaded (or failed), fonts too."""
    page.wait_for_load_state("load")
    # A full-page picture shows images below the fold: load the lazy ones now.
    page.evaluate(
        "document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })"
    )
    page.wait_for_function(
        "() => Array.from(document.images).every(i => i.complete) && document.fonts.status === 'loaded'"
    )


def photograph(stack: bench_stack.Stack, demo: Demo, out: Path) -> list[str]:
    """Every page at both widths, for each kind of person; returns the problems found."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, height in WIDTHS.items():
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    is_mobile=width < 600,
                    has_touch=width < 600,
                )
                page = context.new_page()
                page.set_default_timeout(20_000)
                for name, path in (("login", "/login/"), ("password-reset", "/password-reset/")):
                    page.goto(f"{stack.web_url}{path}")
                    _settle(page)
                    shot = out / f"anonymous-{name}-{width}.png"
                    page.screenshot(path=str(shot), full_page=True)
                context.close()
                for who, staff in ((STAFF, True), (MEMBER, False)):
                    problems += _photograph_as(browser, stack, demo, out, who, staff, width, height)
        finally:
            browser.close()
    return problems


def _photograph_as(
    browser: Any,
    stack: bench_stack.Stack,
    demo: Demo,
    out: Path,
    who: str,
    staff: bool,
    width: int,
    height: int,
) -> list[str]:
    problems = []
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=width < 600, has_touch=width < 600
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{stack.web_url}/login/")
    page.fill("input[name=username]", who)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    label = "staff" if staff else "member"
    for shot in shots(demo, staff):
        if shot.action == "drawer" and width >= 600:
            continue
        response = page.goto(f"{stack.web_url}{shot.path}", wait_until="domcontentloaded")
        status = response.status if response else 0
        expected_refusal = shot.name in ADMIN_ONLY and not staff
        if status >= 400 and not expected_refusal:
            problems.append(f"{label} {shot.path}: answered {status}")
        _settle(page)
        if shot.action == "viewer":
            page.locator(".gallery-tile a.tile-link").first.focus()
            page.keyboard.press("Enter")
            page.locator("#lightbox img[src]").wait_for()
            _settle(page)
        elif shot.action == "drawer":
            page.click("[data-testid=filter-toggle]")
            page.wait_for_function(
                "() => document.querySelector('[data-filter-panel]').getBoundingClientRect().left >= 0"
            )
        # Against the screen's width, not innerWidth: a phone's layout viewport
        # widens to fit content that overflows, hiding the very thing measured.
        overflow = page.evaluate("document.documentElement.scrollWidth") - width
        if width < 600 and overflow > 0:
            problems.append(f"{label} {shot.path} scrolls sideways by {overflow} px at {width} px")
        page.screenshot(
            path=str(out / f"{label}-{shot.name}-{width}.png"), full_page=not shot.action
        )
    context.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "screenshots")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    print("Starting Darkroom with production settings and the offline emulator…", flush=True)
    with bench_stack.running(worker_concurrency=4) as stack:
        demo = seed(stack)
        print("Seeded demo data; photographing every page at 1440 px and 390 px…", flush=True)
        problems = photograph(stack, demo, out)
    count = len(list(out.glob("*.png")))
    print(f"Wrote {count} screenshots to {out}.")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
