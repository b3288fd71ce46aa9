"""pgperf.progress: one reporter protocol, three faces (line, rich, quiet); no database."""

from __future__ import annotations

import io
import re

import pytest

from pgperf.progress import LineReporter, QuietReporter, RichReporter, make_reporter, per_second

LINE = re.compile(
    r"^pgperf: (?P<label>.+?)\s+(?P<count>[\d,]+) (?P<unit>\w+)\s+(?P<took>[\d.]+)s"
    r"(?:\s+(?P<rate>-|[\d,.]+k? \w+/s))?$"
)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_reporter_prints_one_line_per_task_with_count_and_rate() -> None:
    out = io.StringIO()
    reporter = LineReporter(out)
    with reporter.task("seed tasks", total=2_000_000, unit="rows", rate=True) as task:
        task.working_on("chunk 1")  # no line for the item in hand
        task.advance(1_500_000)
        task.advance(500_000)
    with reporter.task("indexes", total=3, unit="indexes", rate=True) as task:
        task.advance()
    with reporter.task("analyze", total=3, unit="tables") as task:
        task.advance(3)
    (first, second, third) = out.getvalue().splitlines()
    one, two, three = LINE.match(first), LINE.match(second), LINE.match(third)
    assert one is not None, first
    assert two is not None, second
    assert three is not None, third
    assert (one["label"], one["count"], one["unit"]) == ("seed tasks", "2,000,000", "rows")
    assert one["rate"] is not None
    assert one["rate"].endswith(" rows/s")
    assert (two["label"], two["count"], two["unit"]) == ("indexes", "1", "indexes")
    assert two["rate"] is not None
    assert two["rate"].endswith(" indexes/s")
    assert (three["label"], three["count"], three["unit"]) == ("analyze", "3", "tables")
    assert three["rate"] is None  # the rate only where the task asks for it


def test_line_reporter_prints_detail_lines_before_the_task_line_and_notes() -> None:
    out = io.StringIO()
    reporter = LineReporter(out)
    with reporter.task("indexes", total=2, unit="indexes") as task:
        task.advance()
        task.detail("idx_a created 0.10s")
        task.advance()
        task.detail("idx_b rebuilt 0.20s")
    reporter.note("2 indexes built")
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["pgperf:   idx_a created 0.10s", "pgperf:   idx_b rebuilt 0.20s"]
    summary = LINE.match(lines[2])
    assert summary is not None, lines[2]
    assert summary["count"] == "2"
    assert lines[3:] == ["pgperf: 2 indexes built"]


def test_line_reporter_reports_a_task_that_did_nothing() -> None:
    out = io.StringIO()
    with LineReporter(out).task("seed empty", total=0, unit="rows"):
        pass
    line = LINE.match(out.getvalue().strip())
    assert line is not None
    assert line["count"] == "0"


@pytest.mark.parametrize(
    ("done", "seconds", "text"),
    [
        (290_000, 1.0, "290k rows/s"),
        (2_000_000, 4.0, "500k rows/s"),
        (999, 1.0, "999.0 rows/s"),
        (5, 2.0, "2.5 rows/s"),
        (0, 1.0, "0.0 rows/s"),
        (10, 0.0, "-"),
        (10, -1.0, "-"),
    ],
)
def test_rate_reads_per_second(done: int, seconds: float, text: str) -> None:
    assert per_second(done, seconds, "rows") == text


def test_quiet_reporter_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = QuietReporter()
    with reporter.task("seed tasks", total=10, unit="rows") as task:
        task.advance(10)
        task.working_on("x")
        task.detail("a detail")
    reporter.note("a note")
    out = io.StringIO()
    disabled = make_reporter(enabled=False, stream=out)
    assert isinstance(disabled, QuietReporter)
    with disabled.task("t", total=1, unit="rows") as task:
        task.advance()
        task.detail("d")
    disabled.note("n")
    assert out.getvalue() == ""
    assert capsys.readouterr() == ("", "")


def test_make_reporter_picks_lines_for_a_pipe_and_a_bar_for_a_terminal() -> None:
    assert isinstance(make_reporter(enabled=True, stream=io.StringIO()), LineReporter)
    assert isinstance(make_reporter(enabled=True, stream=_Terminal()), RichReporter)


def test_make_reporter_writes_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = make_reporter(enabled=True)
    assert isinstance(reporter, LineReporter)  # pytest's captured stderr is no terminal
    reporter.note("hello")
    assert capsys.readouterr() == ("", "pgperf: hello\n")


def test_rich_reporter_leaves_the_task_and_its_details_on_screen() -> None:
    out = _Terminal()
    reporter = RichReporter(out)
    with reporter.task("indexes", total=2, unit="indexes") as task:
        task.working_on("idx_a")
        task.advance()
        task.detail("idx_a created 0.10s")
        task.advance()
    reporter.note("done")
    text = out.getvalue()
    assert "idx_a created 0.10s" in text
    assert "2/2" in text
    assert "pgperf: done" in text
