"""Record output: --fields for search, events and checkpoints (as list's), and values people
copy (job ids, fine-tuned model and checkpoint names) whole on one line in every terminal view,
at 80x24 and 160x40, with no, one and many records, without colour and on a dumb terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.helpers import Cli, error_line
from support.terminal import ESCAPE, run_in_terminal

from ftjobs.render.tables import Column, fit_columns

START = 1_721_764_800
ORG = "ft:gpt-4o-mini-2024-07-18:my-org:custom-suffix"


def job_id(n: int) -> str:
    return f"ftjob-{n:02d}Rq7ZkP3vXbN9cT2mW5yLhD"  # 30 characters, as the API's


def model_name(n: int) -> str:
    return f"{ORG}:{n:02d}rXaBcD"  # 55 characters


def checkpoint_name(n: int, step: int) -> str:
    return f"{model_name(n)}:ckpt-step-{step}"  # about 70


def job(n: int) -> dict[str, object]:
    return {
        "object": "fine_tuning.job", "id": job_id(n), "model": "gpt-4o-mini-2024-07-18",
        "created_at": START + n, "finished_at": START + n + 3600, "status": "succeeded",
        "fine_tuned_model": model_name(n), "training_file": "file-train",
        "metadata": {"team": "search" if n == 1 else "other"},
    }  # fmt: skip


def event(n: int, number: int, message: str, **data: object) -> dict[str, object]:
    return {
        "object": "fine_tuning.job.event", "id": f"ftevent-{n:02d}{number:022d}",
        "created_at": START + number, "level": "info", "message": message, "data": data,
        "type": "metrics" if data else "message",
    }  # fmt: skip


def checkpoint(n: int, step: int) -> dict[str, object]:
    return {
        "object": "fine_tuning.job.checkpoint", "id": f"ftckpt_{n:02d}{step:015d}",
        "created_at": START + step, "fine_tuned_model_checkpoint": checkpoint_name(n, step),
        "step_number": step, "metrics": {"step": step, "train_loss": round(1 / step, 5),
                                         "valid_loss": round(2 / step, 5)},
        "fine_tuning_job_id": job_id(n),
    }  # fmt: skip


MANY = 1  # the job with many events and checkpoints
ONE = 2  # one of each
EMPTY = 3  # none


def events_of(n: int) -> list[dict[str, object]]:
    if n == EMPTY:
        return []
    found = [event(n, 1, f"Created fine-tuning job: {job_id(n)}")]
    if n == MANY:
        found += [event(n, 1 + step, f"Step {step}/3: training loss=0.5", step=step)
                  for step in (1, 2, 3)]  # fmt: skip
        found.append(event(n, 5, f"New fine-tuned model created: {model_name(n)}"))
    return found


def write_lines(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """25 jobs with real-looking ids and names; job 1 has events and checkpoints, job 2 one
    of each, job 3 none."""
    tmp = tmp_path_factory.mktemp("records")
    cli = Cli(tmp / "jobs.db")
    cli.ok("import", write_lines(tmp / "jobs.jsonl", [job(n) for n in range(1, 26)]))
    for n in (MANY, ONE):
        cli.ok("import", "--job", job_id(n), write_lines(tmp / f"e{n}.jsonl", events_of(n)))
    steps = {MANY: (100, 200, 300), ONE: (100,)}
    cks = [checkpoint(n, step) for n, found in steps.items() for step in found]
    cli.ok("import", write_lines(tmp / "ck.jsonl", cks))
    return cli


# -- --fields ---------------------------------------------------------------------------------


def test_events_fields_are_the_events_keys_and_data_keys(store: Cli) -> None:
    out = store.ok("events", job_id(MANY), "--fields", "id,created_at,type,data.step,message")
    expected = [
        f"{e['id']}\t{'2024-07-23T20:00:0' + str(int(e['created_at']) - START) + 'Z'}\t"  # type: ignore[call-overload]
        f"{e['type']}\t{e['data'].get('step', '')}\t{e['message']}"  # type: ignore[attr-defined]
        for e in events_of(MANY)
    ]
    assert out.stdout.splitlines() == expected


def test_checkpoints_fields_are_the_checkpoints_keys_and_metrics_keys(store: Cli) -> None:
    fields = "step_number,fine_tuned_model_checkpoint,metrics.train_loss,fine_tuning_job_id"
    out = store.ok("checkpoints", job_id(MANY), "--fields", fields).stdout
    assert out.splitlines() == [
        f"{step}\t{checkpoint_name(MANY, step)}\t{round(1 / step, 5)}\t{job_id(MANY)}"
        for step in (100, 200, 300)
    ]
    # An object as compact JSON, as list's --fields shows one.
    metrics = store.ok("checkpoints", job_id(ONE), "--fields", "metrics").stdout
    assert json.loads(metrics) == checkpoint(ONE, 100)["metrics"]


def test_search_fields_are_lists(store: Cli) -> None:
    out = store.ok("search", "search", "--fields", "id,fine_tuned_model,metadata.team").stdout
    assert out == f"{job_id(1)}\t{model_name(1)}\tsearch\n"


@pytest.mark.parametrize(
    ("command", "choice"),
    [("events", "data.KEY"), ("checkpoints", "metrics.KEY"), ("search", "metadata.KEY")],
)
def test_an_unknown_field_names_itself_and_the_choices(
    store: Cli, command: str, choice: str
) -> None:
    target = "search" if command == "search" else job_id(MANY)
    line = error_line(store.fails(2, command, target, "--fields", "id,bogus"))
    assert "'bogus' is not a field" in line and choice in line and "created_at" in line


@pytest.mark.parametrize("command", ["events", "checkpoints", "search"])
@pytest.mark.parametrize("flag", ["--json", "--jsonl"])
def test_fields_with_whole_records_is_refused(store: Cli, command: str, flag: str) -> None:
    target = "search" if command == "search" else job_id(MANY)
    assert "--fields" in error_line(store.fails(2, command, target, flag, "--fields", "id"))


def test_jsonl_is_each_record_as_stored(store: Cli) -> None:
    texts = store.ok("checkpoints", job_id(MANY), "--jsonl").stdout.splitlines()
    assert [json.loads(text) for text in texts] == [
        checkpoint(MANY, step) for step in (100, 200, 300)
    ]
    found = store.ok("search", "search", "--jsonl").stdout.splitlines()
    assert [json.loads(text)["id"] for text in found] == [job_id(1)]


# -- fitting columns --------------------------------------------------------------------------


def test_columns_give_way_in_their_order_before_a_whole_value_is_cut() -> None:
    columns = [
        Column("id", 30),
        Column("model", 22, least=12, last=5),
        Column("finished", 16, drop=1),
        Column("fine_tuned_model", 55, drop=2),
    ]
    assert fit_columns(columns, 200) == [30, 22, 16, 55]
    # The model may be cut a little before anything gives way.
    assert fit_columns(columns, 120) == [30, 13, 16, 55]
    # Then the finish time gives way; once the fine-tuned model has too, the finish time fits
    # again beside what is left.
    assert fit_columns(columns, 110) == [30, 21, None, 55]
    assert fit_columns(columns, 80) == [30, 22, 16, None]
    assert fit_columns(columns, 40) == [30, 8, None, None]  # last: cut further once none can
    assert fit_columns(columns, 34) is None  # the id would be cut: records instead


# -- whole values on a terminal ---------------------------------------------------------------

SIZES = [(80, 24), (160, 40)]
_COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-8]|9[0-7])[0-9;]*m")


def whole_on_one_line(lines: list[str], value: str) -> bool:
    return any(value in line for line in lines)


def views(size: int) -> list[tuple[list[str], list[str], str]]:
    """(arguments, values that must appear whole, text that must appear) per view."""
    wide = size >= 160
    many_ids = [job_id(n) for n in range(25, 5, -1)]  # list's first 20, newest first
    return [
        (["list"], many_ids + ([model_name(25)] if wide else []),
         "" if wide else "Not shown at 80 columns: finished, fine-tuned model"),
        (["list", "--fields", "id,fine_tuned_model,status"],
         [job_id(25), model_name(25), model_name(6)], ""),
        (["search", "search"], [job_id(1)] + ([model_name(1)] if wide else []), ""),
        (["search", "custom-suffix", "--all", "--fields", "id,fine_tuned_model"],
         [job_id(n) for n in range(1, 26)] + [model_name(n) for n in range(1, 26)], ""),
        (["search", "nothingmatches"], [], "No jobs."),
        (["events", job_id(MANY)], [job_id(MANY), model_name(MANY)], "training loss=0.5"),
        (["events", job_id(ONE)], [job_id(ONE)], "Created fine-tuning job"),
        (["events", job_id(EMPTY)], [], f"No events for {job_id(EMPTY)}."),
        (["events", job_id(MANY), "--fields", "id,message"], [job_id(MANY)], "ftevent-"),
        (["checkpoints", job_id(MANY)], [checkpoint_name(MANY, s) for s in (100, 200, 300)],
         "best valid"),
        (["checkpoints", job_id(ONE)], [checkpoint_name(ONE, 100)], "final"),
        (["checkpoints", job_id(EMPTY)], [], f"No checkpoints for {job_id(EMPTY)}."),
        (["checkpoints", job_id(MANY), "--fields", "step_number,fine_tuned_model_checkpoint"],
         [checkpoint_name(MANY, s) for s in (100, 200, 300)], ""),
        (["show", job_id(MANY)], [job_id(MANY), model_name(MANY)], "checkpoints"),
    ]  # fmt: skip


@pytest.mark.parametrize(("columns", "rows"), SIZES)
def test_every_view_keeps_ids_and_names_whole(store: Cli, columns: int, rows: int) -> None:
    for args, values, note in views(columns):
        screen = run_in_terminal(store.db, *args, columns=columns, rows=rows)
        shown = "\n".join(screen.lines)
        assert screen.exit_code == 0, shown
        assert "Traceback" not in screen.text, shown
        assert all(len(line) <= columns for line in screen.lines), (args, shown)
        for value in values:
            assert whole_on_one_line(screen.lines, value), (args, value, shown)
        assert note in " ".join(screen.lines), (args, shown)


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}])
def test_without_colour_and_on_a_dumb_terminal(store: Cli, env: dict[str, str]) -> None:
    for args, values, _ in views(80)[::3]:
        screen = run_in_terminal(store.db, *args, columns=80, rows=24, env=env)
        assert screen.exit_code == 0 and "Traceback" not in screen.text, screen.text
        assert not _COLOUR.search(screen.text), (args, screen.text)
        if "TERM" in env:
            assert ESCAPE not in screen.text, (args, screen.text)
        for value in values:
            assert whole_on_one_line(screen.lines, value), (args, value, screen.text)


def test_a_long_metadata_key_does_not_fold_the_model_name(cli: Cli, tmp_path: Path) -> None:
    record = job(7) | {"metadata": {"a_rather_long_metadata_key_for_the_team": "x"}}
    cli.ok("import", write_lines(tmp_path / "j.jsonl", [record]))
    screen = run_in_terminal(cli.db, "show", job_id(7), columns=80, rows=24)
    assert screen.exit_code == 0, screen.text
    assert whole_on_one_line(screen.lines, model_name(7)), screen.text
    assert whole_on_one_line(screen.lines, "a_rather_long_metadata_key_for_the_team"), screen.text
    assert all(len(line) <= 80 for line in screen.lines), screen.text
