"""Every command as a person at a terminal meets it (issue 9): run for real in a pty at 80, 120
and 160 columns, with colour, with NO_COLOR=1 and with TERM=dumb, on an empty store, one result
and many. No traceback, the ids and values whole, no line wider than the terminal, no colour
under NO_COLOR and no escape code at all on a dumb terminal. (list has its own module,
test_terminal.py; sync is in test_sync_process.py.)

Each pty run costs about half a second, so the table spreads the widths and environments over
the commands rather than multiplying them: every command runs at 80 and at 160 columns, and
once under NO_COLOR and once under TERM=dumb.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from support import historydata as h
from support.helpers import REPO_ROOT, Cli
from support.jobdata import make_job, write_jsonl
from support.terminal import ESCAPE, run_in_terminal

MANY = 1_234  # generated jobs; with the three below the store holds 1,237
TOTAL = f"{MANY + 3:,}"
FAILED = "ftjob-FailedJobWithAnError1234"
ONE = "ftjob-OneEventOneCheckpoint"
BARE = make_job(1)["id"]  # running, no error, no history
HISTORY = h.JOB_ID  # 250 events, 3 checkpoints, a result file with 240 steps
ERROR_MESSAGE = (
    "Training file has 5 examples; fine-tuning needs at least 10. Add more examples and"
    " upload the file again."
)
STDIN_JOBS = 2_000

# One-line messages on stderr stay one line however wide (scripts grep them; README: "an error
# is one line starting Error:"): the terminal wraps them. Everything else fits the width.
MESSAGES = ("Error:", "Warning:", "Note:", "Imported ", "Would import ", "Nothing to import")

# An SGR sequence that sets a colour: 30-37, 38;5;N, 38;2;R;G;B, 40-47, 90-97, 100-107.
_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour_codes(text: str) -> list[str]:
    found = []
    for match in _SGR.finditer(text):
        params = [int(p) for p in match.group(1).split(";") if p.isdigit()]
        if any(30 <= p <= 38 or 40 <= p <= 48 or 90 <= p <= 107 for p in params):
            found.append(match.group(0))
    return found


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Inputs the commands read: jobs to import (none, one, many), events, a result file."""
    tmp = tmp_path_factory.mktemp("inputs")
    return {
        "none": _write(tmp / "none.json", "[]\n"),
        "one": write_jsonl(tmp / "one.jsonl", [make_job(9_001)]),
        "fresh": write_jsonl(tmp / "fresh.jsonl", [make_job(9_100 + n) for n in range(1_000)]),
        "same": write_jsonl(tmp / "same.jsonl", [make_job(n) for n in range(20)]),
        "events": _write(tmp / "events.jsonl", "\n".join(h.event_texts()) + "\n"),
        "csv": _write(tmp / "results.csv", h.result_csv()),
    }


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, files: dict[str, Path]) -> dict[str, Path]:
    """An empty store, and one with 1,237 jobs: 1,234 generated, one failed with a long error,
    one with a single event and checkpoint, and the 240-step job with its whole history."""
    from ftjobs.store import Store

    tmp = tmp_path_factory.mktemp("stores")
    Store.open(tmp / "empty.db").close()
    cli = Cli(tmp / "full.db")
    cli.ok("import", write_jsonl(tmp / "many.jsonl", [make_job(n) for n in range(MANY)]))
    failed = make_job(
        5_000,
        id=FAILED,
        status="failed",
        finished_at=1_721_768_400,
        error={"code": "invalid_n_examples", "message": ERROR_MESSAGE, "param": "training_file"},
        metadata={"team": "search", "ticket": "JIRA-1234"},
        trained_tokens=12_345,
    )
    cli.ok("import", write_jsonl(tmp / "failed.jsonl", [failed]))
    cli.ok("import", _write(tmp / "history.json", json.dumps(h.job())))
    pages = [_write(tmp / f"ev{n}.json", page) for n, page in enumerate(h.events_list_pages())]
    cli.ok("import", "--job", HISTORY, *pages)
    cli.ok("import", _write(tmp / "ck.jsonl", "\n".join(h.checkpoint_texts()) + "\n"))
    cli.ok("attach", HISTORY, h.RESULT_FILE, "--content", files["csv"])
    cli.ok("import", write_jsonl(tmp / "one.jsonl", [make_job(5_001, id=ONE, status="running")]))
    cli.ok("import", "--job", ONE, _write(tmp / "one-ev.json", h.event_texts()[5]))
    checkpoint = json.loads(h.checkpoint_texts()[0]) | {"fine_tuning_job_id": ONE}
    cli.ok("import", _write(tmp / "one-ck.json", json.dumps(checkpoint)))
    return {"empty": tmp / "empty.db", "full": cli.db}


@dataclass(frozen=True)
class Case:
    """One run: the arguments (@NAME is an input file, @out a file to write), the terminal, and
    what must be on the screen."""

    args: tuple[str, ...]
    columns: int = 80
    env: dict[str, str] = field(default_factory=dict)
    expect: tuple[str, ...] = ()
    store: str = "full"  # "empty"; a write command works on a copy of the store
    exit_code: int = 0
    typed: bytes | None = None  # typed at the terminal (a confirmation)
    raw: bool = False  # data a program reads (JSON): its lines are as long as they are
    widest: int = 0  # on a dumb terminal: some line at least this wide (COLUMNS honoured)

    @property
    def writes(self) -> bool:
        return self.args[0] in ("add", "update", "attach", "delete", "import")


NO_COLOR = {"NO_COLOR": "1"}
DUMB = {"TERM": "dumb"}

CASES = {
    # add: the new id, whole, on its own line.
    "add-no-color": Case(
        ("add", "--model", "gpt-4o-mini", "--training-file", "file-abc123"), env=NO_COLOR
    ),
    "add-160-dumb": Case(
        ("add", "--model", "gpt-4o-mini-2024-07-18", "--training-file", "file-abc", "--id",
         "ftjob-" + "N" * 24, "--status", "succeeded", "--trained-tokens", "5768"),
        columns=160, env=DUMB, expect=("ftjob-" + "N" * 24,),
    ),
    # show: a failed job with its error and metadata; a bare job (the history job's lines:
    # test_history_cli.py).
    "show-error-80": Case(
        ("show", FAILED), expect=(FAILED, "invalid_n_examples", "metadata.ticket", "JIRA-1234",
                                  "upload the file again", "12,345"),
    ),
    "show-bare-no-color": Case(("show", BARE), env=NO_COLOR, expect=(BARE, "none stored")),
    "show-error-160-dumb": Case(
        ("show", FAILED), columns=160, env=DUMB, widest=len(ERROR_MESSAGE),
        expect=(f"invalid_n_examples: {ERROR_MESSAGE}",),
    ),
    # update: the id and new status on stderr; --json the job.
    "update-no-color": Case(
        ("update", BARE, "--metadata", "team=search"), env=NO_COLOR, expect=(f"{BARE}\trunning",)
    ),
    "update-json-160-dumb": Case(
        ("update", BARE, "--status", "cancelled", "--json"), columns=160, env=DUMB, raw=True,
        expect=(f'"id": "{BARE}"', '"status": "cancelled"'),
    ),
    # attach: how many result files; with --content, what was stored.
    "attach-no-color": Case(
        ("attach", BARE, "file-r1", "file-r2"), env=NO_COLOR,
        expect=(f"{BARE}: 3 result files",),
    ),
    "attach-content-160-dumb": Case(
        ("attach", ONE, "file-one", "--content", "@csv"), columns=160, env=DUMB,
        expect=(f"{ONE}: stored file-one (CSV, 240 rows); 1 result file",),
    ),
    # delete: without --yes it asks on a terminal, naming the jobs.
    "delete-yes-no-color": Case(
        ("delete", BARE, "--yes"), env=NO_COLOR, expect=("Deleted 1 job.",)
    ),
    "delete-asks-160-dumb": Case(
        ("delete", FAILED, HISTORY), columns=160, env=DUMB, typed=b"y\n",
        expect=(f"{FAILED}  failed  gpt-4o-mini-2024-07-18", HISTORY,
                "Delete 2 jobs and their 250 events, 3 checkpoints, 3 result files? [y/N]:",
                "Deleted 2 jobs."),
    ),
    # "no" is an abort (exit 1; Ctrl-C at the prompt: test_interrupt.py).
    "delete-no-no-color": Case(
        ("delete", ONE), env=NO_COLOR, typed=b"n\n", exit_code=1,
        expect=("Delete 1 job and its 1 event, 1 checkpoint? [y/N]: Aborted.",),
    ),
    # import: none, one, many, some again (more of the wording in-process, below).
    "import-none": Case(
        ("import", "@none"), expect=("Nothing to import: no jobs, events or checkpoints",)
    ),
    "import-one-no-color": Case(
        ("import", "@one"), columns=160, env=NO_COLOR,
        expect=("Imported 1 job: 1 inserted, 0 updated, 0 unchanged, 0 skipped",),
    ),
    "import-many-dumb": Case(
        ("import", "@fresh"), columns=120, env=DUMB,
        expect=("Imported 1,000 jobs: 1,000 inserted, 0 updated",),
    ),
    "import-again": Case(
        ("import", "@same"), columns=160,
        expect=("Imported 0 of 20 jobs: 0 inserted, 0 updated, 20 unchanged, 0 skipped",),
    ),
    # export: JSON Lines on the terminal is data (as long as it is); -o says how many.
    "export-one-dumb": Case(
        ("export", "--status", "failed"), env=DUMB, raw=True,
        expect=(f'"id":"{FAILED}"', ERROR_MESSAGE),
    ),
    "export-file-160-no-color": Case(
        ("export", "-o", "@out"), columns=160, env=NO_COLOR,
        expect=(f"Exported {TOTAL} jobs to",),
    ),
    # events, checkpoints, metrics: in test_history_cli.py (none, one, many; every width;
    # NO_COLOR; TERM=dumb); here the note on no metrics, which did not fit 80 columns.
    "metrics-none-dumb": Case(("metrics", BARE), env=DUMB, expect=(f"No metrics for {BARE}.",)),
    # stats (an empty store: test_insights.py)
    "stats-no-color": Case(
        ("stats",), env=NO_COLOR, expect=(f"{TOTAL} jobs", "By status", "trained tokens: 135,801")
    ),
    "stats-160-dumb": Case(
        ("stats",), columns=160, env=DUMB, expect=(f"{TOTAL} jobs", "By model")
    ),  # (its width honoured on a dumb terminal: test_insights.py, the models grouped)
    # info
    "info-empty-no-color": Case(
        ("info",), env=NO_COLOR, store="empty", expect=("jobs            0", "never")
    ),
    "info-160-dumb": Case(
        ("info",), columns=160, env=DUMB,
        expect=(f"jobs            {TOTAL} (", "events          251", "checkpoints     4",
                "1 with content stored"),
    ),
    # search: no match, one, many (the notice counts with separators)
    "search-none": Case(("search", "zzzqqq"), expect=("No jobs.",)),
    "search-one-no-color": Case(
        ("search", "invalid_n_examples"), columns=160, env=NO_COLOR, expect=(FAILED,)
    ),
    "search-many-dumb": Case(
        ("search", "ftjob"), columns=160, env=DUMB, expect=(f"Showing 20 of {TOTAL} jobs; --all",),
        widest=100,
    ),
    # list's notice (the table itself is in test_terminal.py)
    "list-notice": Case(
        ("list",), columns=120, expect=("Showing 20 of more than 1,000 jobs; --all",)
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_command_on_a_terminal(
    case: Case, stores: dict[str, Path], files: dict[str, Path], tmp_path: Path
) -> None:
    db = stores[case.store]
    if case.writes:
        db = Path(shutil.copy(db, tmp_path / "jobs.db"))
    named = {**files, "out": tmp_path / "out.jsonl"}
    args = [str(named[arg[1:]]) if arg.startswith("@") else arg for arg in case.args]

    screen = run_in_terminal(db, *args, columns=case.columns, env=case.env, stdin_data=case.typed)

    assert screen.exit_code == case.exit_code, screen.text
    assert "Traceback" not in screen.text, screen.text
    text = "\n".join(screen.lines)
    for expected in case.expect:
        assert expected in text, f"{expected!r} not on the screen:\n{text}"
    if not case.raw:
        too_wide = [
            line
            for line in screen.lines
            if len(line) > case.columns and not line.startswith(MESSAGES)
        ]
        assert not too_wide, text
    if case.env.get("TERM") == "dumb":
        assert ESCAPE not in screen.text, screen.text
        assert max(map(len, screen.lines)) >= case.widest, text
    if "NO_COLOR" in case.env:
        assert colour_codes(screen.text) == [], screen.text
    if case.args[0] == "add" and case.exit_code == 0:
        assert re.fullmatch(r"ftjob-[A-Za-z0-9]{24}", screen.lines[-1]), text


def test_every_command_is_run_at_80_and_160_and_without_colour() -> None:
    """The table's coverage, checked: each command at both widths, under NO_COLOR, under
    TERM=dumb (events, checkpoints and metrics: test_history_cli.py)."""
    commands = {case.args[0] for case in CASES.values()}
    assert commands >= {"add", "show", "update", "attach", "delete", "import", "export",
                        "stats", "search", "info"}  # fmt: skip
    for command in commands - {"list", "metrics"}:
        runs = [case for case in CASES.values() if case.args[0] == command]
        assert {80, 160} <= {case.columns for case in runs}, command
        assert any("NO_COLOR" in case.env for case in runs), command
        assert any(case.env.get("TERM") == "dumb" for case in runs), command


# -- import from a pipe -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def piped_jobs() -> bytes:
    jobs = (make_job(20_000 + n) for n in range(STDIN_JOBS))
    return "".join(json.dumps(job) + "\n" for job in jobs).encode()


_PROGRESS = re.compile(r"Importing from stdin: ([\d,]+) records read, ([\d,]+) records/s")


def test_import_from_a_pipe_shows_records_read_and_the_rate(
    tmp_path: Path, piped_jobs: bytes
) -> None:
    """`cat jobs.jsonl | ftjobs import -` with stderr on a terminal: a live line (records read,
    records/s, no total), gone when the summary comes; stdout stays empty."""
    screen = run_in_terminal(
        tmp_path / "jobs.db", "import", "-", columns=80,
        piped_stdin=piped_jobs, piped_stdout=True,
    )  # fmt: skip

    assert screen.exit_code == 0, screen.text
    assert "Traceback" not in screen.text
    assert screen.stdout == ""
    # The live line redraws itself after a carriage return: each drawing is a line seen.
    seen = [part for line in screen.lines for part in line.split("\r")]
    progress = [match for line in seen if (match := _PROGRESS.fullmatch(line))]
    assert progress, screen.text
    assert progress[-1].group(1) == f"{STDIN_JOBS:,}"  # the last figures are drawn
    assert int(progress[-1].group(2).replace(",", "")) > 0
    assert " of " not in " ".join(match.group(0) for match in progress)  # stdin has no total
    assert screen.lines[-1].startswith(f"Imported {STDIN_JOBS:,} jobs: {STDIN_JOBS:,} inserted")
    assert all(len(line) <= 80 for line in seen if not line.startswith(MESSAGES)), seen


def test_import_from_a_pipe_on_a_dumb_terminal_is_the_summary_alone(
    tmp_path: Path, piped_jobs: bytes
) -> None:
    screen = run_in_terminal(
        tmp_path / "jobs.db", "import", env=DUMB, piped_stdin=piped_jobs, piped_stdout=True
    )
    assert screen.exit_code == 0 and screen.stdout == "", screen.text
    assert ESCAPE not in screen.text
    assert len(screen.lines) == 1, screen.text  # no progress, not even a blank line
    assert screen.lines[0].startswith(f"Imported {STDIN_JOBS:,} jobs: {STDIN_JOBS:,} inserted")


def test_import_with_nothing_a_terminal_shows_no_progress(tmp_path: Path) -> None:
    """stderr a file (a script's log): the summary line and nothing else."""
    data = "".join(json.dumps(make_job(n)) + "\n" for n in range(300))
    done = subprocess.run(
        [sys.executable, "-m", "ftjobs", "--db", str(tmp_path / "jobs.db"), "import", "-"],
        input=data.encode(),
        capture_output=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Imported 300 jobs: 300 inserted"), lines
    assert b"\x1b" not in done.stderr and b"Importing" not in done.stderr


# -- what the import summary says (in-process: the words, not the terminal) ------------------


def test_the_import_summary_says_what_was_written_out_of_what_was_read(
    cli: Cli, tmp_path: Path
) -> None:
    jobs = write_jsonl(tmp_path / "jobs.jsonl", [make_job(n) for n in range(3)])

    def summary(*args: str | Path) -> str:
        lines = cli.ok("import", *args).stderr.splitlines()
        assert len(lines) == 1, lines
        return lines[0].split(" (")[0]  # without the time and rate

    assert summary(jobs) == "Imported 3 jobs: 3 inserted, 0 updated, 0 unchanged, 0 skipped"
    assert summary(jobs) == "Imported 0 of 3 jobs: 0 inserted, 0 updated, 3 unchanged, 0 skipped"
    assert summary(jobs, "--on-conflict", "skip") == (
        "Imported 0 of 3 jobs: 0 inserted, 0 updated, 0 unchanged, 3 skipped"
    )
    changed = write_jsonl(tmp_path / "changed.jsonl", [make_job(0, status="cancelled")])
    assert summary(changed, "--dry-run") == (
        "Would import 1 job: 0 inserted, 1 updated, 0 unchanged, 0 skipped"
    )
    assert summary(jobs, changed) == (
        "Imported 1 of 4 jobs: 0 inserted, 1 updated, 3 unchanged, 0 skipped"
    )
    events = _write(tmp_path / "events.jsonl", "\n".join(h.event_texts()[:2]) + "\n")
    assert (
        summary("--job", make_job(0)["id"], events)
        == "Imported 2 events: 2 added, 0 already stored"
    )
    assert summary("--job", make_job(0)["id"], events) == (
        "Imported 0 of 2 events: 0 added, 2 already stored"
    )
    empty = _write(tmp_path / "empty.json", '{"object": "list", "data": [], "has_more": false}')
    assert summary(empty) == "Nothing to import: no jobs, events or checkpoints in the input"
    bad = _write(tmp_path / "bad.jsonl", '{"object": "fine_tuning.job"}\n')
    refused = cli.fails(1, "import", jobs, bad).stderr.splitlines()
    assert refused[-1].startswith("Error: 1 invalid record; nothing was imported"), refused
