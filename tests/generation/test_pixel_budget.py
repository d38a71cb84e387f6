"""Decodes share a budget of pixels, first come first served, and memory is
given back once a burst of big decodes is over."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from generation import pixel_budget
from generation.pixel_budget import PixelBudget


class Holder(threading.Thread):
    """Holds ``pixels`` of the budget until ``release`` is set."""

    def __init__(self, budget: PixelBudget, pixels: int) -> None:
        super().__init__(daemon=True)
        self.budget, self.pixels = budget, pixels
        self.entered = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        with self.budget.hold(self.pixels):
            self.entered.set()
            self.release.wait(30)


def until(condition: Callable[[], bool]) -> None:
    """Wait for a state another thread reaches (no time is asserted)."""
    event = threading.Event()
    for _ in range(3000):
        if condition():
            return
        event.wait(0.01)
    raise AssertionError("the condition was never reached")


def start(budget: PixelBudget, pixels: int) -> Holder:
    holder = Holder(budget, pixels)
    holder.start()
    return holder


def test_decodes_run_together_while_their_pixels_fit() -> None:
    budget = PixelBudget(10)
    first, second = start(budget, 4), start(budget, 6)
    first.entered.wait(30)
    second.entered.wait(30)

    assert budget.in_use == 10 == budget.peak
    for holder in (first, second):
        holder.release.set()
        holder.join(30)
    assert budget.in_use == 0


def test_a_decode_that_does_not_fit_waits_for_pixels_to_be_given_back() -> None:
    budget = PixelBudget(10)
    first = start(budget, 6)
    first.entered.wait(30)
    second = start(budget, 6)
    until(lambda: len(budget._waiting) == 1)

    assert not second.entered.is_set()  # 12 pixels would not fit in 10
    first.release.set()
    assert second.entered.wait(30)
    assert budget.peak == 6
    second.release.set()
    second.join(30)


def test_a_small_decode_does_not_overtake_a_big_one_waiting() -> None:
    budget = PixelBudget(10)
    first = start(budget, 6)
    first.entered.wait(30)
    big = start(budget, 8)
    until(lambda: len(budget._waiting) == 1)
    small = start(budget, 1)  # would fit beside the first, but the big one came before
    until(lambda: len(budget._waiting) == 2)

    assert not small.entered.is_set()
    assert not big.entered.is_set()
    first.release.set()
    assert big.entered.wait(30)
    assert small.entered.wait(30)  # 8 + 1 fit together
    for holder in (big, small):
        holder.release.set()
        holder.join(30)


def test_a_decode_larger_than_the_budget_runs_alone() -> None:
    budget = PixelBudget(10)
    huge = start(budget, 25)
    assert huge.entered.wait(30)
    small = start(budget, 1)
    until(lambda: len(budget._waiting) == 1)

    assert not small.entered.is_set()
    huge.release.set()
    assert small.entered.wait(30)
    small.release.set()
    small.join(30)


def test_memory_is_trimmed_once_a_burst_of_big_decodes_is_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trims: list[int] = []

    def release() -> bool:
        trims.append(1)
        return True

    monkeypatch.setattr(pixel_budget, "release_free_memory", release)
    budget = PixelBudget(100, trim_after=50)
    first = start(budget, 30)
    first.entered.wait(30)
    with budget.hold(30):
        pass  # 60 decoded, but the first still decodes: not idle yet
    assert trims == []

    first.release.set()
    first.join(30)
    assert trims == [1]
    assert budget.trims == 1
    with budget.hold(10):
        pass  # 10 since the last trim: too little to be worth one
    assert trims == [1]


def test_freed_memory_can_be_given_back_on_glibc() -> None:
    # This machine (and the Docker image) run glibc: malloc_trim is there.
    assert pixel_budget.release_free_memory() is True


def test_a_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        PixelBudget(0)
