"""The CLI's progress reporter: plain periodic lines off a terminal, a bar on one."""

from __future__ import annotations

import io

from paperbot.cli.progress import ProgressReporter, amount


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_come_every_interval_and_end_with_done() -> None:
    out, clock = io.StringIO(), Clock()
    with ProgressReporter(out, terminal=False, interval=10, clock=clock) as progress:
        report = progress.stage("ingesting")
        for done in range(0, 100_001, 1_000):
            clock.now = done / 1_000  # a thousand papers a second
            report(done, 100_000)
    lines = out.getvalue().splitlines()
    assert lines[0] == "paperbot: ingesting: 10,000/100,000 papers (10%)"
    assert (
        len(lines) == 10
        and lines[-1] == "paperbot: ingesting: done, 100,000/100,000 papers in 100 s"
    )
    assert "\x1b" not in out.getvalue()


def test_quick_work_prints_nothing_off_a_terminal() -> None:
    out, clock = io.StringIO(), Clock()
    with ProgressReporter(out, terminal=False, interval=10, clock=clock) as progress:
        check = progress.stage("checking big.jsonl", unit="bytes")
        check(5 * 1024 * 1024, 10 * 1024 * 1024)
        check(10 * 1024 * 1024, 10 * 1024 * 1024)
        progress.stage("indexing")(3, None)
    assert out.getvalue() == ""


def test_unknown_totals_and_bytes_read_well() -> None:
    assert amount(1_234_567, None, "papers") == "1,234,567 papers"
    assert amount(3 * 1024 * 1024, 12 * 1024 * 1024, "bytes") == "3.0/12.0 MB"
    out, clock = io.StringIO(), Clock()
    report = ProgressReporter(out, terminal=False, interval=1, clock=clock).stage("indexing")
    clock.now = 2
    report(500, None)
    assert out.getvalue() == "paperbot: indexing: 500 papers\n"


def test_a_terminal_gets_one_bar_per_stage() -> None:
    out = io.StringIO()
    with ProgressReporter(out, terminal=True) as progress:
        progress.stage("ingesting")(40, 80)
        progress.stage("indexing")(80, 80)
    text = out.getvalue()
    assert "ingesting" in text and "40/80 papers" in text and "indexing" in text
    assert "━" in text


def test_the_terminal_is_detected_from_the_stream() -> None:
    assert ProgressReporter(io.StringIO()).terminal is False
