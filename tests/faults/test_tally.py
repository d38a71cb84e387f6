"""The fault suite's bookkeeping (faults.tally) on synthetic rows: what counts as
lost, stuck, double-charged, unrecorded or dropped, and the verdict it gives."""

from __future__ import annotations

from decimal import Decimal

from faults import report
from faults.__main__ import exit_code
from faults.harness import Probe
from faults.tally import Charge, Expectation, JobRecord, Row, money_verdict, tally, verdict

NOW = 1_000_000.0


def job(token: str, status: str = "succeeded", **fields: object) -> JobRecord:
    values: dict[str, object] = {
        "created_at": NOW - 30,
        "finished_at": NOW - 20 if status in ("succeeded", "failed", "canceled") else None,
        "actual_cost": Decimal("0.04"),
        "confirmed_cost": None,
        "reserved_cost": Decimal(0),
        "images": 1,
    }
    values.update(fields)
    return JobRecord(token=token, status=status, **values)  # type: ignore[arg-type]


def count(
    records: list[JobRecord],
    charges: list[Charge],
    *,
    accepted: set[str] | None = None,
    expectations: dict[str, Expectation] | None = None,
) -> Row:
    return tally(
        "synthetic",
        accepted=accepted if accepted is not None else {r.token for r in records},
        records={r.token: r for r in records},
        charges=charges,
        expectations=expectations or {},
        now=NOW,
    )


def test_every_charge_recorded_meets_the_goals() -> None:
    row = count(
        [job("a"), job("b", confirmed_cost=Decimal("0.05"), actual_cost=Decimal("0.04"))],
        [Charge("a", Decimal("0.04"), 1), Charge("b", Decimal("0.05"), 1)],
    )

    assert (row.jobs, row.succeeded, row.lost, row.double_charged) == (2, 2, 0, 0)
    assert row.charged == row.recorded == Decimal("0.09")  # the confirmed cost wins
    assert row.mismatched == row.unknown == row.dropped_images == 0
    assert verdict(row) == []


def test_a_charge_recorded_as_free_is_a_mismatch() -> None:
    # Issue 15, item 3: a stream error charged upstream, nothing recorded, nothing reserved.
    failed = job("a", "failed", actual_cost=None, images=0)

    row = count([failed], [Charge("a", Decimal("0.0425"), 0, "stream_error")])

    assert row.mismatched == 1
    assert (row.charged, row.recorded) == (Decimal("0.0425"), Decimal(0))
    assert verdict(row) == [
        "1 job(s) charged otherwise than recorded (charged $0.0425, recorded $0)"
    ]


def test_an_unknown_charge_with_its_reservation_kept_is_flagged_not_missed() -> None:
    unknown = job("a", "failed", actual_cost=None, reserved_cost=Decimal("0.05"), images=0)

    row = count(
        [unknown], [Charge("a", Decimal("0.04"), 1)], expectations={"a": Expectation(False)}
    )

    assert (row.unknown, row.mismatched) == (1, 0)
    assert row.recorded == Decimal("0.05")
    assert verdict(row) == []


def test_money_is_compared_at_darkrooms_eight_places() -> None:
    assert money_verdict(job("a", actual_cost=Decimal("0.04000000")), Decimal("0.04")) == "match"
    assert money_verdict(job("a"), Decimal("0.040000001")) == "match"
    assert money_verdict(job("a"), Decimal("0.0401")) == "mismatch"
    # A known charge with the estimate still reserved on top counts twice.
    assert money_verdict(job("a", reserved_cost=Decimal("0.04")), Decimal("0.04")) == "mismatch"
    pending = job("a", "running", actual_cost=None, reserved_cost=Decimal("0.04"))
    assert money_verdict(pending, Decimal("0.04")) == "pending"


def test_two_ledger_entries_for_one_job_are_a_double_charge() -> None:
    row = count([job("a")], [Charge("a", Decimal("0.04"), 1), Charge("a", Decimal("0.04"), 1)])

    assert row.double_charged == 1
    assert "1 double-charged" in verdict(row)


def test_vanished_rows_and_charges_without_a_job_are_lost() -> None:
    row = count(
        [job("a")],
        [Charge("a", Decimal("0.04"), 1), Charge("z", Decimal("0.04"), 1)],
        accepted={"a", "b"},  # the API answered 201 for b, and its row is gone
    )

    assert row.lost == 2  # b vanished; z was charged with no job at all
    assert row.jobs == 2
    assert row.dropped_images == 1  # z's paid image
    assert verdict(row)[0] == "2 lost"


def test_jobs_not_final_within_their_window_are_stuck_or_late() -> None:
    running = job("a", "running", actual_cost=None, reserved_cost=Decimal("0.04"), images=0)
    late = job("b", "failed", finished_at=NOW - 5, actual_cost=None, images=0)
    on_time = job("c", "failed", finished_at=NOW - 25, actual_cost=None, images=0)
    window = Expectation(images_expected=False, final_by=NOW - 10)

    row = count(
        [running, late, on_time],
        [],
        expectations={"a": window, "b": window, "c": window},
    )

    assert (row.stuck, row.late) == (1, 1)
    assert row.longest_active == 30.0  # the running job, created 30 s before now
    assert "2 job(s) not final within their window (longest 30 s in a non-final state)" in (
        verdict(row)
    )


def test_paid_images_not_stored_are_dropped_when_they_were_usable() -> None:
    storage_failed = job("a", "failed", images=0)
    gone = job("b", images=1, missing_objects=1)
    unusable = job("c", "failed", images=0)

    row = count(
        [storage_failed, gone, unusable],
        [Charge(t, Decimal("0.04"), 1) for t in "abc"],
        expectations={"c": Expectation(images_expected=False)},
    )

    assert row.dropped_images == 2  # a's never stored, b's object missing; c had none usable
    assert row.missing == 1
    assert "2 paid image(s) dropped" in verdict(row)


def test_probes_that_answered_wrong_are_part_of_the_verdict() -> None:
    during = Probe("GET /gallery/ during the outage", 500, frozenset({503}))
    unanswered = Probe("GET /media/x", 0, frozenset({503}), "ReadTimeout")
    row = count([job("a")], [Charge("a", Decimal("0.04"), 1)])
    row.probe_failures = [p.describe() for p in (during, unanswered) if not p.ok]

    assert verdict(row) == [
        "GET /gallery/ during the outage: HTTP 500, expected 503",
        "GET /media/x: no answer (ReadTimeout), expected 503",
    ]
    assert report.verdict_line(row).startswith("  verdict: NOT met: GET /gallery/")


def test_the_report_line_carries_every_column() -> None:
    row = count([job("a")], [Charge("a", Decimal("0.04"), 1)])
    row.seconds = 12.4

    line = report.line(row)

    assert line.split() == ["synthetic", "12", "s", "1", "1", "0", "0", "0", "(10", "s)", "0",
                            "$0.0400", "$0.0400", "(0)", "0/0"]  # fmt: skip
    assert report.verdict_line(row) == "  verdict: met"


def test_exit_code_fails_on_a_missed_goal_unless_report_only() -> None:
    met = count([job("a")], [Charge("a", Decimal("0.04"), 1)])
    missed = count([job("a")], [])

    assert exit_code([met], report_only=False) == 0
    assert exit_code([met, missed], report_only=False) == 1
    assert exit_code([met, missed], report_only=True) == 0
    assert exit_code([], report_only=False) == 1  # nothing ran: nothing was proven


def test_a_part_of_the_stack_that_crashed_misses_the_goals() -> None:
    row = Row("redis-refused")
    row.crashes = ["generation worker exited by itself (exit code 1); restarted in 4 s"]
    assert verdict(row) == ["generation worker exited by itself (exit code 1); restarted in 4 s"]
