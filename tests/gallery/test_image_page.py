"""An image's page: the picture and everything about how it was made, next and
previous within the filter it was opened from, favourites and boards."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from gallery.models import Board, BoardItem, Favourite
from generation.models import Batch, Job
from tests.gallery.conftest import add_image, make_image, make_job

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_image_and_how_it_was_made(
    user: User, bob: User, bob_client: Client
) -> None:
    source = make_job(user, "a fox in the snow")
    job = make_job(
        user,
        "a red fox in the snow, remixed",
        params={
            "quality": "high",
            "size": "1024x1536",
            "provider_options": {"openai": {"moderation": "low"}},
        },
        cost=Decimal("0.125"),
    )
    batch = Batch.objects.create(author=user, prompt=job.prompt)
    Job.objects.filter(pk=job.pk).update(remix_of=source, batch=batch, n=2)
    image = add_image(job)
    add_image(job)

    response = bob_client.get(f"/gallery/{image.pk}/")

    html = response.text
    assert response.status_code == 200
    assert f'src="/media/{image.pk}/original"' in html
    assert f'href="/media/{image.pk}/original?download=1"' in html
    assert "a red fox in the snow, remixed" in html
    assert "quality</dt>" in html
    assert "high" in html
    assert "size</dt>" in html
    assert "1024x1536" in html
    assert "provider_options.moderation</dt>" in html
    assert 'href="/models/openai/gpt-image-1/"' in html
    assert "OpenAI" in html  # provider
    assert "alice" in html  # author
    assert "3.3 s at OpenRouter" in html
    assert " s from submit to done" in html
    assert "$0.125" in html
    assert "estimated $0.05" in html
    assert f'href="/jobs/{job.pk}/"' in html
    assert "a compare batch" in html
    assert "image 1 of 2" in html
    assert f'href="/jobs/{source.pk}/"' in html  # what it remixed
    assert f'href="/?remix={job.pk}"' in html
    assert f'href="/?prompt_of={job.pk}"' in html
    assert "Delete this image" not in html  # bob is not the author


def test_a_private_remix_source_is_not_linked_for_others(
    user: User, bob: User, bob_client: Client
) -> None:
    source = make_job(user, "my secret source", private=True)
    image = make_image(user, "a public remix")
    Job.objects.filter(pk=image.job_id).update(remix_of=source)

    html = bob_client.get(f"/gallery/{image.pk}/").text

    assert str(source.pk) not in html
    assert "my secret source" not in html


def test_next_and_previous_stay_within_the_filter(user: User, user_client: Client) -> None:
    now = timezone.now()
    oldest = make_image(user, "a red fox", created_at=now - timedelta(hours=3))
    make_image(user, "a grey wolf", created_at=now - timedelta(hours=2))
    middle = make_image(user, "a red fox again", created_at=now - timedelta(hours=1))
    make_image(user, "a grey wolf again", created_at=now)

    filtered = user_client.get(f"/gallery/{middle.pk}/?q=fox").text
    unfiltered = user_client.get(f"/gallery/{middle.pk}/").text

    assert f'href="/gallery/{oldest.pk}/?q=fox" rel="next"' in filtered
    assert 'rel="prev"' not in filtered  # nothing newer matches "fox"
    assert 'href="/gallery/?q=fox"' in filtered  # back to the filtered grid
    assert 'rel="prev"' in unfiltered
    assert 'rel="next"' in unfiltered


def test_a_filter_it_cannot_read_falls_back_to_the_whole_gallery(
    user: User, user_client: Client
) -> None:
    image = make_image(user, "a red fox")

    response = user_client.get(f"/gallery/{image.pk}/?author=nobody")

    assert response.status_code == 200
    assert "next and previous go through the whole gallery" in response.text


def test_unknown_or_bad_image_ids_are_404(user_client: Client) -> None:
    assert user_client.get("/gallery/6f1e5c3a-0000-4000-8000-000000000000/").status_code == 404
    assert user_client.get("/gallery/not-a-uuid/").status_code == 404


def test_favourites_are_per_person_and_counted_for_all(
    user: User, bob: User, user_client: Client, bob_client: Client
) -> None:
    image = make_image(bob, "a red fox")
    url = f"/gallery/{image.pk}/favourite"

    response = user_client.post(url, {"on": "1"}, headers={"HX-Request": "true"})
    again = user_client.post(url, {"on": "1"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith("<form")
    assert 'aria-pressed="true"' in again.text
    assert Favourite.objects.filter(image=image).count() == 1  # setting, not toggling
    bob_page = bob_client.get(f"/gallery/{image.pk}/").text
    assert 'aria-pressed="false"' in bob_page
    assert (
        'data-testid="favourite-count" title="How many people made it a favourite">1<' in bob_page
    )
    assert 'data-testid="tile-favourite-count">1<' in bob_client.get("/gallery/").text

    off = user_client.post(url, {"on": "0"})

    assert off.status_code == 302
    assert off["Location"] == f"/gallery/{image.pk}/"
    assert not Favourite.objects.exists()


def test_favourite_a_private_image_of_someone_else_is_404(user: User, bob_client: Client) -> None:
    image = make_image(user, "secret", private=True)

    assert bob_client.post(f"/gallery/{image.pk}/favourite", {"on": "1"}).status_code == 404
    assert not Favourite.objects.exists()


def test_add_one_image_to_an_existing_or_a_new_board(
    user: User, bob: User, user_client: Client
) -> None:
    image = make_image(bob, "a red fox")
    board = Board.objects.create(name="Foxes", created_by=bob)
    url = f"/gallery/{image.pk}/board"

    existing = user_client.post(url, {"board": board.pk, "next": f"/gallery/{image.pk}/?q=fox"})
    new = user_client.post(url, {"new_board": "  Red   things "})

    assert existing.status_code == 302
    assert existing["Location"] == f"/gallery/{image.pk}/?q=fox"
    assert new.status_code == 302
    red = Board.objects.get(name="Red things")
    assert red.created_by == user
    assert set(BoardItem.objects.values_list("board__name", "image_id", "added_by")) == {
        ("Foxes", image.pk, user.pk),
        ("Red things", image.pk, user.pk),
    }
    page = user_client.get(f"/gallery/{image.pk}/").text
    assert f'href="/gallery/boards/{board.pk}/">Foxes</a>' in page


def test_adding_to_a_board_without_one_or_to_a_gone_one_says_so(
    user: User, user_client: Client
) -> None:
    image = make_image(user, "a red fox")

    none = user_client.post(f"/gallery/{image.pk}/board", {"board": ""})
    gone = user_client.post(f"/gallery/{image.pk}/board", {"board": "424242"})
    evil = user_client.post(
        f"/gallery/{image.pk}/board", {"board": "", "next": "https://evil.example/"}
    )

    assert none.status_code == 400
    assert "Choose a board" in none.text
    assert gone.status_code == 404
    assert "does not exist any more" in gone.text
    assert 'href="https://evil.example/"' not in evil.text
