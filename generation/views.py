"""Pages and fragments for generating: thin views over forms, services and selectors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from django import db
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from generation import (
    live,
    preferences,
    progress,
    selectors,
    services,
    spending,
    storage,
    usage,
)
from generation.forms import GenerateForm
from generation.kept_references import read_reference_token
from generation.models import MEDIA_EXTENSIONS
from webapp import htmx, permissions
from webapp.http import AuthenticatedRequest
from webapp.streaming import streamed

MAX_WATCHED_JOBS = 50
KEEPALIVE_SECONDS = 15


def generate(request: AuthenticatedRequest) -> HttpResponse:
    """The Generate page. A valid POST queues the job(s) and shows them live;
    an invalid one re-renders the form with a message on each bad field."""
    if request.method == "GET" and not permissions.can_spend(request.user):
        # A viewer's home is the gallery: the form would only be refused.
        messages.info(request, permissions.SpendingNotAllowed.message)
        return redirect("gallery:index")
    if request.method == "POST" and not permissions.can_spend(request.user):
        return render(
            request,
            "team/forbidden.html",
            {"reason": permissions.SpendingNotAllowed.message},
            status=403,
        )
    if request.method == "POST":
        form = GenerateForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            try:
                jobs = services.submit(request.user, form.job_requests())
            except spending.SpendRefused as exc:
                form.add_error(None, exc.message)
            else:
                preferences.remember_in_session(
                    request.session,
                    request.user,
                    model_slug=form.cleaned_data["model"].slug,
                    style=form.chosen_style,
                    options={
                        name: request.POST.get(form_name)
                        for form_name, name in form.option_names.items()
                    },
                )
                if len(jobs) > 1:  # a comparison opens side by side
                    return _to(request, reverse("generation:job", kwargs={"job_id": jobs[0].pk}))
                if not request.htmx:
                    messages.success(request, f"Queued {len(jobs)} job(s).")
                    return redirect("generation:job", job_id=jobs[0].pk)
                context = _generate_context(request, GenerateForm.after_submit(form, request.user))
                return render(request, "generation/generate.html#workspace", context)
        status = 400
    else:
        form = GenerateForm.initial_for(request.user, request.GET)
        status = 200
    template = htmx.template_for(request, "generation/generate.html", "workspace")
    return render(request, template, _generate_context(request, form), status=status)


def _generate_context(request: AuthenticatedRequest, form: GenerateForm) -> dict[str, Any]:
    jobs = selectors.recent_jobs(request.user)
    return {
        "form": form,
        "jobs": jobs,
        "watch": [job.pk for job in jobs if job.is_active],
        "spend": spending.standing(request.user),
    }


@require_GET
def options(request: AuthenticatedRequest) -> HttpResponse:
    """The chosen model's options, swapped into the form when the model changes."""
    form = GenerateForm.initial_for(request.user, request.GET)
    return render(request, "generation/generate.html#options", {"form": form})


@require_POST
def estimate(request: AuthenticatedRequest) -> HttpResponse:
    """The live cost estimate for what the form currently says."""
    form = GenerateForm(request.POST, request.FILES, user=request.user)
    # A value that cannot be stored says so in place of an estimate for something else.
    status = 400 if form.input_errors else 200
    return render(request, "generation/generate.html#estimate", {"form": form}, status=status)


def job_detail(request: AuthenticatedRequest, job_id: uuid.UUID) -> HttpResponse:
    """One job, or its whole comparison side by side (the primary model first,
    the prompt once, the batch's total)."""
    job = selectors.job_for(request.user, job_id)
    if job.batch is not None:
        ids = job.batch.jobs.order_by("created_at", "pk").values_list("pk", flat=True)
        siblings = selectors.cards(request.user, ids)
    else:
        siblings = selectors.cards(request.user, [job.pk])
    return render(
        request,
        "generation/job.html",
        {
            "job": job,
            "jobs": siblings,
            "watch": [j.pk for j in siblings if j.is_active],
            "batch_total": usage.batch_total(siblings),
            "compare": job.batch is not None,
        },
    )


@require_GET
def job_reference(request: AuthenticatedRequest, job_id: uuid.UUID, index: int) -> HttpResponse:
    """A job's uploaded reference image, for whoever may see the job."""
    job = selectors.job_for(request.user, job_id)
    uploads = [r for r in job.references if r.get("kind") == "upload"]
    if not 0 <= index < len(uploads):
        raise Http404("This job has no such reference image.")
    return _reference_bytes(uploads[index])


@require_GET
def kept_reference(request: AuthenticatedRequest) -> HttpResponse:
    """A reference carried by the form (``?token=``), for the user it was signed for."""
    reference = read_reference_token(request.user, request.GET.get("token", ""))
    if reference is None:
        raise Http404("This reference has expired.")
    return _reference_bytes(reference)


def _reference_bytes(reference: dict[str, Any]) -> HttpResponse:
    try:
        data = storage.read(reference["key"])
    except (FileNotFoundError, KeyError):
        raise Http404("The reference image is gone from storage.") from None
    response = HttpResponse(data, content_type=reference.get("media_type", "image/png"))
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def my_usage(request: AuthenticatedRequest) -> HttpResponse:
    """My usage: this month's spend against the budgets, by model, the most
    expensive jobs, and every job of mine, newest first (``?page=``)."""
    context = usage.usage_for(request.user, request.GET.get("page"))
    return render(request, "generation/usage.html", context)


@require_GET
def job_card(request: AuthenticatedRequest, job_id: uuid.UUID) -> HttpResponse:
    """One job card: the polling fallback's fragment."""
    return _card(request, job_id)


def _card(request: AuthenticatedRequest, job_id: uuid.UUID) -> HttpResponse:
    jobs = selectors.cards(request.user, [job_id])
    if not jobs:
        raise Http404
    return render(request, "generation/_job_card.html", {"job": jobs[0]})


@require_POST
def job_cancel(request: AuthenticatedRequest, job_id: uuid.UUID) -> HttpResponse:
    job = selectors.job_for(request.user, job_id)
    if not permissions.can_manage(request.user, job):
        return HttpResponse("Only the job's author or an admin can cancel this job.", status=403)
    if not services.cancel(job):
        messages.info(request, "The job had already finished.")
    if request.htmx:
        return _card(request, job_id)  # the card, now showing what the job was charged
    return redirect("generation:job", job_id=job.pk)


@require_POST
def job_retry(request: AuthenticatedRequest, job_id: uuid.UUID) -> HttpResponse:
    job = selectors.job_for(request.user, job_id)
    if not permissions.can_manage(request.user, job) or not permissions.can_spend(request.user):
        return HttpResponse("Only the job's author or an admin can retry this job.", status=403)
    try:
        new_job = services.retry(job, request.user)
    except spending.SpendRefused as exc:
        messages.error(request, exc.message)
        return _to(request, reverse("generation:job", kwargs={"job_id": job.pk}))
    except ValueError as exc:
        return HttpResponse(str(exc), status=409)
    return _to(request, reverse("generation:job", kwargs={"job_id": new_job.pk}))


def _to(request: AuthenticatedRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a whole-page visit."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_GET
def job_preview(request: AuthenticatedRequest, job_id: uuid.UUID, index: int) -> HttpResponse:
    job = selectors.job_for(request.user, job_id)
    data = progress.load_preview(job.pk, index)
    if data is None:
        raise Http404("This preview has expired.")
    response = HttpResponse(data, content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
def media(request: AuthenticatedRequest, image_id: uuid.UUID, variant: str) -> HttpResponseBase:
    """Image bytes, only for those who may see the image (the bucket stays private).

    SVG is active content: it is served with a sandboxing CSP so that opening
    it directly cannot run anything, and the original is a download on request.
    """
    image = selectors.image_for(request.user, image_id)
    if variant == "thumbnail":
        key, media_type = image.thumbnail_key, _media_type_of(image.thumbnail_key)
    else:
        key, media_type = image.original_key, image.media_type
    try:
        handle, size = storage.open_file(key)
    except FileNotFoundError:
        raise Http404("The image file is gone from storage.") from None
    download = variant == "original" and request.GET.get("download") == "1"
    response = FileResponse(
        handle,
        content_type=media_type,
        as_attachment=download,
        filename=storage.download_name(image.job, image.index, image.extension),
    )
    if size is not None:
        response["Content-Length"] = str(size)
    # The headers came from the file; the bytes go out in 64 KiB reads, streamed under ASGI.
    response.streaming_content = streamed(request, iter(lambda: handle.read(65536), b""))
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    return response


_MEDIA_TYPES = {extension: media_type for media_type, extension in MEDIA_EXTENSIONS.items()}


def _media_type_of(key: str) -> str:
    return _MEDIA_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")


def _parse_job_ids(raw: str) -> list[uuid.UUID] | None:
    try:
        ids = [uuid.UUID(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        return None
    return ids[:MAX_WATCHED_JOBS]


def _give_connection_back() -> None:
    db.connection.close()


def _render_initial(user: Any, job_ids: list[uuid.UUID]) -> tuple[list[str], dict[uuid.UUID, bool]]:
    """Each visible job's card as an SSE event, and whether each job is final.

    The account is read again first: one deactivated between the request's
    session check and the stream's subscription missed its ``SIGNED_OUT``, and
    sees nothing (so its stream closes at once)."""
    user.is_active = type(user).objects.filter(pk=user.pk, is_active=True).exists()
    cards = live.render_cards(job_ids)
    events, final = [], {}
    for job_id in job_ids:
        card = cards.get(job_id)
        event = card.event_for(user) if card else None
        if card is None or event is None:
            continue
        events.append(event)
        final[job_id] = card.is_final
    return events, final


async def events(request: AuthenticatedRequest) -> HttpResponseBase:
    """One stream per page for all the jobs it shows (``?jobs=id,id``).

    On every connect (and reconnect) it first sends each job's current state
    from the database, since pub/sub forgets; then one event per change, fed
    by the process's one subscription (``generation.live``). When every
    watched job is final it sends ``close`` and ends. An open stream holds no
    database connection: each read takes one from the pool and gives it back.
    """
    job_ids = _parse_job_ids(request.GET.get("jobs", ""))
    if job_ids is None:
        return HttpResponseBadRequest("jobs must be a comma-separated list of job ids")
    user = await request.auser()
    # The session and user were read on this request's thread: give that
    # connection back now rather than when the page closes.
    await sync_to_async(_give_connection_back)()

    async def stream() -> AsyncIterator[str]:
        live.release_request_thread()  # the middleware has run: no thread per open page
        hub = live.hub()
        try:
            async with hub.watch(job_ids, viewer_id=user.pk) as changes:
                initial, final = await sync_to_async(_render_initial, thread_sensitive=False)(
                    user, job_ids
                )
                for event in initial:
                    yield event
                if all(final.values()):  # also when none of the jobs is visible
                    yield live.sse("close", "")
                    return
                while True:
                    try:
                        first = await asyncio.wait_for(changes.get(), KEEPALIVE_SECONDS)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    changed = [first]
                    while not changes.empty():  # a burst: everything delivered so far
                        changed.append(changes.get_nowait())
                    if live.BROKEN in changed:
                        yield ": progress channel unavailable\n\n"
                        return
                    if live.SIGNED_OUT in changed:
                        # Closed, not dropped: the page must not reconnect as nobody.
                        yield live.sse("close", "")
                        return
                    # Each job's latest card (cards arrive in the order they were read).
                    latest = {
                        card.job_id: card
                        for card in changed
                        if isinstance(card, live.Card) and card.job_id in final
                    }
                    # One write per wake-up, whatever the number of cards: with
                    # thousands of open streams, each write is what a change costs.
                    updates = []
                    for job_id, card in latest.items():
                        update = card.event_for(user)
                        if update is None:
                            continue
                        updates.append(update)
                        final[job_id] = card.is_final
                    if all(final.values()):
                        yield "".join(updates) + live.sse("close", "")
                        return
                    if updates:
                        yield "".join(updates)
        except ConnectionError:
            # The page falls back to polling and reconnects; nothing is lost.
            yield ": progress channel unavailable\n\n"

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
