"""`events --follow`: a real second process follows a job while this one writes the store (as
another `ftjobs sync` would), or while the fake API moves the job from running to succeeded;
piped lines, --jsonl, Ctrl-C, a job already final, and on a terminal."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest
from support.fake_api import FakeFineTuningApi
from support.helpers import Cli, error_line
from support.sync import OPENAI_ENV
from support.terminal import run_in_terminal

JOB = "ftjob-Fo11owMeRunning0000Abcde"
FT_MODEL = "ft:gpt-4o-mini-2024-07-18:my-org:custom-suffix:9rXaBcDe"
START = 1_721_764_800
WAIT = 30.0  # the most any step may take on a loaded machine (never asserted as a time)


def job_text(status: str, **more: object) -> str:
    return json.dumps(
        {"object": "fine_tuning.job", "id": JOB, "model": "gpt-4o-mini-2024-07-18",
         "created_at": START, "status": status, "training_file": "file-train", **more},
        separators=(",", ":"),
    )  # fmt: skip


def event_text(number: int, message: str, kind: str = "message") -> str:
    return json.dumps(
        {"object": "fine_tuning.job.event", "id": f"ftevent-{number:024d}",
         "created_at": START + number, "level": "info", "message": message, "data": {},
         "type": kind},
        separators=(",", ":"),
    )  # fmt: skip


EVENTS = [
    event_text(1, f"Created fine-tuning job: {JOB}"),
    event_text(2, "Fine-tuning job started"),
    event_text(3, "Step 1/2: training loss=1.20", "metrics"),
    event_text(4, "Step 2/2: training loss=0.80", "metrics"),
    event_text(5, f"New fine-tuned model created: {FT_MODEL}"),
    event_text(6, "The job has successfully completed"),
]


def message(text: str) -> str:
    return str(json.loads(text)["message"])


class Lines:
    """A child's stdout read on a thread, so that the test can wait for lines without
    blocking forever."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: IO[bytes]) -> None:
        for line in pipe:
            self.queue.put(line.decode("utf-8"))
        self.queue.put(None)

    def wait_for(self, count: int) -> list[str]:
        """Until count lines in all have come (or the stream ends): every line so far."""
        deadline = time.monotonic() + WAIT
        while len(self.seen) < count and time.monotonic() < deadline:
            try:
                line = self.queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            self.seen.append(line)
        return self.seen


def follow_process(
    db: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    base = {
        k: v for k, v in os.environ.items() if k not in OPENAI_ENV and not k.startswith("FTJOBS")
    }
    return subprocess.Popen(
        [sys.executable, "-m", "ftjobs", "--db", str(db), "events", JOB, "--follow",
         "--interval", "0.05", *args],
        env={**base, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def finished(process: subprocess.Popen[bytes]) -> bytes:
    """Wait for the child to end; its stderr. (Not communicate(): a Lines thread reads stdout.)"""
    process.wait(timeout=WAIT)
    assert process.stderr is not None
    return process.stderr.read()


def every_event_once(
    process: subprocess.Popen[bytes], lines: Lines, err: bytes, status: str
) -> None:
    """The follower ended well, having printed each event once, oldest first: the last ones
    too, though the job became final right after they were stored."""
    assert process.returncode == 0, err.decode()
    shown = lines.wait_for(len(EVENTS) + 1)
    assert [line.rstrip("\n").split("\t")[3] for line in shown] == [message(t) for t in EVENTS]
    assert f"{JOB} has {status}." in err.decode()
    assert "Traceback" not in err.decode()


def import_events(cli: Cli, tmp_path: Path, texts: list[str]) -> None:
    path = tmp_path / f"events-{json.loads(texts[0])['id']}.jsonl"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    cli.ok("import", "--job", JOB, path)


@pytest.fixture
def running(cli: Cli, tmp_path: Path) -> Cli:
    """A running job with its first two events stored."""
    (tmp_path / "job.json").write_text(job_text("running"), encoding="utf-8")
    cli.ok("import", tmp_path / "job.json")
    import_events(cli, tmp_path, EVENTS[:2])
    return cli


def test_follow_prints_what_another_process_stores_until_the_job_is_final(
    running: Cli, tmp_path: Path
) -> None:
    process = follow_process(running.db)
    lines = Lines(process.stdout)  # type: ignore[arg-type]
    try:
        assert [line.split("\t")[3] for line in lines.wait_for(2)] == [
            message(text) + "\n" for text in EVENTS[:2]
        ]
        import_events(running, tmp_path, EVENTS[2:4])
        assert len(lines.wait_for(4)) == 4
        import_events(running, tmp_path, EVENTS[4:])
        running.ok("update", JOB, "--status", "succeeded", "--fine-tuned-model", FT_MODEL)
        err = finished(process)
    finally:
        process.kill()
    every_event_once(process, lines, err, "succeeded")


def test_follow_jsonl_streams_each_event_as_stored(running: Cli, tmp_path: Path) -> None:
    process = follow_process(running.db, "--jsonl")
    lines = Lines(process.stdout)  # type: ignore[arg-type]
    try:
        assert len(lines.wait_for(2)) == 2
        import_events(running, tmp_path, EVENTS[2:])
        running.ok("update", JOB, "--status", "failed")
        err = finished(process)
    finally:
        process.kill()
    assert process.returncode == 0, err.decode()
    assert "".join(lines.wait_for(len(EVENTS) + 1)) == "\n".join(EVENTS) + "\n"
    assert f"{JOB} has failed." in err.decode()


def test_ctrl_c_stops_following_with_one_line(running: Cli) -> None:
    process = follow_process(running.db)
    lines = Lines(process.stdout)  # type: ignore[arg-type]
    try:
        assert len(lines.wait_for(2)) == 2  # it is following now
        process.send_signal(signal.SIGINT)
        err = finished(process)
    finally:
        process.kill()
    assert process.returncode == 130
    messages = err.decode().splitlines()
    assert messages[-1] == "Interrupted." and "Traceback" not in err.decode(), messages


def test_a_final_job_is_printed_and_left_at_once(running: Cli) -> None:
    running.ok("update", JOB, "--status", "cancelled")
    result = running.ok("events", JOB, "--follow", "--fields", "id,message")
    assert result.stdout == "".join(f"{json.loads(t)['id']}\t{message(t)}\n" for t in EVENTS[:2])
    assert "Following" not in result.stderr and f"{JOB} has cancelled." in result.stderr


def test_follow_options_that_do_not_go_together(running: Cli) -> None:
    assert "--jsonl" in error_line(running.fails(2, "events", JOB, "--follow", "--json"))
    assert "--follow" in error_line(running.fails(2, "events", JOB, "--remote"))
    running.fails(1, "events", "ftjob-nothere", "--follow")


def test_follow_remote_fetches_and_saves_until_the_job_succeeds(tmp_path: Path) -> None:
    db = tmp_path / "jobs.db"
    with FakeFineTuningApi() as fake:
        fake.add_job(job_text("running"))
        fake.add_events(JOB, EVENTS[1::-1])  # the API lists newest first
        process = follow_process(db, "--remote", env=fake.env())
        lines = Lines(process.stdout)  # type: ignore[arg-type]
        try:
            assert len(lines.wait_for(2)) == 2, process.stderr
            fake.add_newer_events(JOB, EVENTS[3:1:-1])
            assert len(lines.wait_for(4)) == 4
            fake.add_newer_events(JOB, EVENTS[:3:-1])
            fake.add_job(job_text("succeeded", fine_tuned_model=FT_MODEL))
            err = finished(process)
        finally:
            process.kill()
    every_event_once(process, lines, err, "succeeded")
    # What was followed is archived: the events as the API sent them, and the final job.
    cli = Cli(db)
    assert cli.ok("events", JOB, "--jsonl").stdout == "\n".join(EVENTS) + "\n"
    assert cli.show(JOB)["status"] == "succeeded"


@pytest.mark.parametrize("columns", [80, 160])
def test_follow_on_a_terminal_adds_rows_under_the_log(running: Cli, columns: int) -> None:
    def finish() -> None:  # as a sync would, once the follower has started
        time.sleep(0.5)
        import_events(running, running.db.parent, EVENTS[2:])
        running.ok("update", JOB, "--status", "succeeded", "--fine-tuned-model", FT_MODEL)

    writer = threading.Thread(target=finish)
    writer.start()
    screen = run_in_terminal(
        running.db, "events", JOB, "--follow", "--interval", "0.05", columns=columns
    )
    writer.join()
    assert screen.exit_code == 0, screen.text
    assert "Traceback" not in screen.text
    text = "\n".join(screen.lines)
    assert all(message(t) in text or message(t).split(": ")[0] in text for t in EVENTS), text
    assert any(FT_MODEL in line for line in screen.lines), text  # whole, on one line
    assert text.count("Time (UTC)") <= 1  # one header, the new rows under it
    assert all(len(line) <= columns for line in screen.lines), text
