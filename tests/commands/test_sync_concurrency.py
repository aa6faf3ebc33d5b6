"""Issue 15: histories fetched on a pool of threads. The same archive and the same requests
whatever --concurrency says, never more requests in flight than it allows, and a rate limit
the server enforces slows every thread down, then lets them recover. The real CLI, the real
SDK, a real HTTP server on 127.0.0.1; timings are never asserted (the machine is shared)."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fake_api import FakeFineTuningApi
from support.helpers import Cli, connect, dump
from support.sync import OPENAI_ENV, assert_archive_equals_server, sync_process
from support.syncdata import fill
from typer.testing import Result

from ftjobs.sync.ratelimit import Throttle, ThrottleClosed, reset_seconds


@pytest.fixture
def fake() -> Iterator[FakeFineTuningApi]:
    with FakeFineTuningApi(page_cap=3) as server:
        fill(server, range(1, 13), events=7)
        yield server


def sync(db: Path, fake: FakeFineTuningApi, *args: str) -> Result:
    result = Cli(db)("sync", "--timeout", "5", *args, env={**OPENAI_ENV, **fake.env()})
    assert result.exit_code == 0, result.stderr
    return result


def without_times(db: Path) -> list[str]:
    """The store's rows, but those that hold when a sync ran."""
    moving = ("sync", "sources", "model_states", "file_objects")
    return [line for line in dump(db) if not any(word in line for word in moving)]


def test_every_concurrency_makes_the_same_requests_and_the_same_archive(
    tmp_path: Path, fake: FakeFineTuningApi
) -> None:
    asked: dict[int, Counter[str]] = {}
    for concurrency in (1, 8):
        start = len(fake.requests)
        db = tmp_path / f"c{concurrency}.db"
        sync(db, fake, "--concurrency", str(concurrency))
        asked[concurrency] = Counter(
            request.path + "?" + request.query.get("after", "") for request in fake.requests[start:]
        )
        assert_archive_equals_server(Cli(db), fake)
    assert asked[1] == asked[8]
    # Saved in the order listed: the same job keys, the same rows, whatever the concurrency.
    assert without_times(tmp_path / "c1.db") == without_times(tmp_path / "c8.db")
    # An unchanged re-sync asks the same few things either way.
    for concurrency in (1, 8):
        start = len(fake.requests)
        sync(tmp_path / f"c{concurrency}.db", fake, "--concurrency", str(concurrency))
        assert [r.path for r in fake.requests[start:]] == ["/v1/fine_tuning/jobs"]


def test_never_more_requests_in_flight_than_allowed(
    tmp_path: Path, fake: FakeFineTuningApi
) -> None:
    fake.delay = 0.02  # long enough for requests to overlap
    sync(tmp_path / "three.db", fake, "--concurrency", "3")
    assert 2 <= fake.peak_serving <= 3
    fake.peak_serving = 0
    sync(tmp_path / "one.db", fake, "--concurrency", "1")
    assert fake.peak_serving == 1


def test_a_rate_limit_slows_every_thread_and_the_sync_completes(
    tmp_path: Path, fake: FakeFineTuningApi
) -> None:
    """The server allows 2 requests at once and answers 429 beyond; with 8 asked for, the
    throttle halves its limit on each 429 and waits as told, and the archive is whole."""
    fake.delay = 0.02
    fake.limit_in_flight = 2
    db = tmp_path / "jobs.db"
    sync(db, fake, "--concurrency", "8")
    assert fake.limited > 0  # it was rate-limited ...
    fake.limit_in_flight = None
    assert_archive_equals_server(Cli(db), fake)  # ... and lost nothing
    # Fewer 429s than answers: the threads held back instead of hammering (a quarter in a quiet
    # run; the bound leaves room for a loaded machine, where answers come late and bunched).
    assert fake.limited < len(fake.requests) / 2
    assert fake.peak_serving <= 8


# -- the throttle itself, with a clock of the test's own ---------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_halves_on_a_429_and_recovers_one_at_a_time() -> None:
    clock = Clock()
    throttle = Throttle(8, clock=clock)
    throttle.observe(429, {"Retry-After": "2"})
    assert throttle.limit == 4 and throttle.rate_limited == 1 and throttle.pauses == 1
    throttle.observe(429, {"retry-after-ms": "500"})
    assert throttle.limit == 2
    clock.now += 3  # the pause is over
    for _ in range(2):
        throttle.observe(200, {})
    assert throttle.limit == 3
    for _ in range(3 + 4 + 5 + 6 + 7 + 10):
        throttle.observe(200, {})
    assert throttle.limit == 8  # never above what was asked for


def test_the_throttle_waits_for_a_spent_window() -> None:
    clock = Clock()
    throttle = Throttle(4, clock=clock)
    throttle.observe(
        200, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1.5s"}
    )
    assert throttle.pauses == 1 and throttle.limit == 4
    assert throttle._paused_until == pytest.approx(101.5)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1.5s", 1.5), ("1h2m", 3720.0),
     ("", None), ("soon", None), ("5", None), (None, None)],
)  # fmt: skip
def test_reset_header_durations(text: str | None, seconds: float | None) -> None:
    assert reset_seconds(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_a_closed_throttle_refuses_new_requests() -> None:
    throttle = Throttle(1)
    throttle.close()
    with pytest.raises(ThrottleClosed), throttle.slot():
        pass


def test_a_wait_waited_out_by_the_thread_that_got_it_lets_every_thread_on() -> None:
    """A Retry-After longer than the SDK honours is counted down by FineTuningApi in the
    thread that got it; once it has, the pause is over for all (found: with a test's fake
    sleep the throttle still held every request for its own 60 s)."""
    clock = Clock()
    throttle = Throttle(2, clock=clock)
    throttle.observe(429, {"retry-after": "600"})
    throttle.resume()
    with throttle.slot():  # does not wait
        assert throttle.in_flight == 1


@pytest.mark.parametrize("concurrency", ["1", "4"])
def test_a_job_that_fails_mid_walk_is_never_passed_by_the_cursor(
    tmp_path: Path, concurrency: str
) -> None:
    """One job's history fails (a 500 after the retries) on the list's second page while jobs
    around it are fetched: what was fetched is saved, but the walk's place never moves past the
    job that was not, so the next sync fetches it and the archive is whole."""
    with FakeFineTuningApi(page_cap=3) as server:
        fill(server, range(1, 10), events=2)
        broken = f"ftjob-{5:024d}"  # newest first: the second page's middle job
        server.fail(500, times=None, path_contains=f"{broken}/events")
        db = tmp_path / "jobs.db"
        first = Cli(db)("sync", "--concurrency", concurrency, env={**OPENAI_ENV, **server.env()})
        assert first.exit_code == 1 and "500" in first.stderr
        assert broken not in {job["id"] for job in Cli(db).json("list", "--all", "--json")}
        server._faults.clear()
        sync(db, server, "--concurrency", concurrency)
        assert_archive_equals_server(Cli(db), server)


def test_a_forgotten_cursor_then_a_failure_still_leaves_the_walk_unfinished(
    tmp_path: Path,
) -> None:
    """Found in review: when the server no longer knew the saved cursor, the walk was marked
    finished before the new one from the top had saved anything; a failure then left jobs below
    the old cursor unarchived for good (later syncs walk only down to the mark)."""
    with FakeFineTuningApi(page_cap=3) as server:
        fill(server, range(1, 13), events=2)
        failing = f"ftjob-{5:024d}"
        server.fail(500, times=None, path_contains=f"{failing}/events")
        db = tmp_path / "jobs.db"
        env = {**OPENAI_ENV, **server.env()}
        assert Cli(db)("sync", env=env).exit_code == 1
        with connect(db) as conn:
            [cursor] = conn.execute("SELECT walk_after FROM sync_sources").fetchone()
        assert cursor  # an unfinished walk, with a place to go on from
        server.remove_job(cursor)  # the server forgets that place
        # A new job on top whose history fails: its save, queued before the walk starts again
        # from the top, fails after it, so no place move follows.
        fill(server, range(13, 14), events=2)
        server.fail(500, times=None, path_contains=f"ftjob-{13:024d}/events")
        assert Cli(db)("sync", env=env).exit_code == 1
        server._faults.clear()
        sync(db, server)
        stored = {job["id"] for job in Cli(db).json("list", "--all", "--json")}
        assert set(server._jobs) <= stored


def test_ctrl_c_is_not_held_up_by_a_worker_counting_down_a_long_wait(tmp_path: Path) -> None:
    """Found in review: a worker waiting out a Retry-After longer than the SDK's own limit slept
    on after Ctrl-C, and the process lived until the wait ended (up to --max-wait)."""
    with FakeFineTuningApi(page_cap=3) as server:
        fill(server, range(1, 7), events=2)
        # Every events page: a 5-minute wait, counted down on the worker threads.
        server.fail(429, times=None, path_contains="/events", headers={"retry-after": "300"})
        db = tmp_path / "jobs.db"
        process = sync_process(db, server, "--concurrency", "4")
        time.sleep(3)  # start-up, then the wait begins
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, err = process.communicate(timeout=60)
        assert process.returncode == 130, err.decode()
        assert time.monotonic() - started < 15
        assert "Traceback" not in err.decode()
