"""webapp.htmx: page or fragment, and a history restore always gets the page."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from webapp.htmx import template_for, wants_fragment

PAGE = "gallery/index.html"


def _request(**headers: str) -> HttpRequest:
    request = RequestFactory().get("/", headers=headers)
    request.htmx = HtmxDetails(request)  # type: ignore[attr-defined]
    return request


def test_a_plain_request_gets_the_page() -> None:
    request = _request()
    assert not wants_fragment(request)
    assert template_for(request, PAGE, "results") == PAGE


def test_an_htmx_swap_gets_the_fragment() -> None:
    request = _request(HX_Request="true")
    assert wants_fragment(request)
    assert template_for(request, PAGE, "results") == f"{PAGE}#results"


def test_a_history_restore_gets_the_whole_page() -> None:
    request = _request(HX_Request="true", HX_History_Restore_Request="true")
    assert not wants_fragment(request)
    assert template_for(request, PAGE, "results", by_target={"grid": "items"}) == PAGE


@pytest.mark.parametrize(
    ("target", "fragment", "expected"),
    [
        ("grid", None, f"{PAGE}#items"),
        ("results", None, f"{PAGE}#results"),
        ("elsewhere", None, PAGE),
        ("elsewhere", "workspace", f"{PAGE}#workspace"),
    ],
)
def test_the_fragment_follows_the_swapped_element(
    target: str, fragment: str | None, expected: str
) -> None:
    request = _request(HX_Request="true", HX_Target=target)
    assert (
        template_for(request, PAGE, fragment, by_target={"grid": "items", "results": "results"})
        == expected
    )
