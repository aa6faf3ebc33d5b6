"""info and stats: exact figures on a small store, months in UTC, an empty store, and what a
person sees on a terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers import Cli, connect
from support.jobdata import make_job, write_jsonl
from support.terminal import ESCAPE, run_in_terminal

from ftjobs.store import SCHEMA_VERSION

JAN_31_20H = 1_706_731_200  # 2024-01-31T20:00:00Z: already February in Tokyo
FEB_1_02H = 1_706_752_800  # 2024-02-01T02:00:00Z: still January in New York
FEB_15 = 1_707_955_200
MAR_1 = 1_709_251_200
MAR_2 = 1_709_337_600


def _job(n: int, model: str, status: str, created: int, took: int | None, tokens: int | None):
    return make_job(
        n,
        model=model,
        status=status,
        created_at=created,
        finished_at=None if took is None else created + took,
        trained_tokens=tokens,
    )


@pytest.fixture
def small(tmp_path: Path, cli: Cli) -> Cli:
    jobs = [
        _job(1, "m1", "succeeded", JAN_31_20H, 100, 1000),
        _job(2, "m1", "succeeded", FEB_1_02H, 300, 2000),
        _job(3, "m2", "failed", FEB_15, 200, None),
        _job(4, "m2", "running", MAR_1, None, None),
        _job(5, "m1", "cancelled", MAR_2, 400, None),
    ]
    cli.ok("import", write_jsonl(tmp_path / "jobs.jsonl", jobs))
    return cli


EXPECTED = {
    "total": 5,
    "by_status": {"succeeded": 2, "cancelled": 1, "failed": 1, "running": 1},
    "by_model": {"m1": 3, "m2": 2},
    "by_month": {"2024-01": 1, "2024-02": 2, "2024-03": 2},
    "trained_tokens": 3000,
    "trained_tokens_by_model": {"m1": 3000},
    "finished": 4,
    "success_rate": 0.5,
    # durations 100, 200, 300, 400: nearest rank 2 of 4 and 4 of 4
    "duration_seconds": {"median": 200, "p90": 400, "jobs": 4},
}


def test_stats_json_has_the_exact_figures(small: Cli) -> None:
    assert small.json("stats", "--json") == EXPECTED


def test_stats_takes_lists_filters(small: Cli) -> None:
    got = small.json("stats", "--json", "--model", "m1", "--since", "2024-02-01")
    assert got["total"] == 2
    assert got["by_status"] == {"succeeded": 1, "cancelled": 1}
    assert got["by_month"] == {"2024-02": 1, "2024-03": 1}
    assert got["duration_seconds"] == {"median": 300, "p90": 400, "jobs": 2}
    failed = small.json("stats", "--json", "--status", "failed", "--status", "running")
    assert failed["success_rate"] == 0.0 and failed["trained_tokens"] == 0


def test_stats_takes_every_filter_list_takes(small: Cli) -> None:
    """The same filters as list, and the same jobs: stats' total is list's count."""
    finished = ["--finished-since", "2024-02-01", "--finished-until", "2024-03-02T00:06:40Z"]
    cases = {
        tuple(finished): 2,  # jobs 2 and 3; job 5 finished at the (excluded) upper bound
        ("--training-file", "file-abc123"): 5,
        ("--metadata", "n=3"): 1,
        ("--fine-tuned-model", "ft:none"): 0,
        ("--error-code", "none"): 0,
    }
    for args, total in cases.items():
        listed = small.json("list", "--all", "--json", *args)
        assert small.json("stats", "--json", *args)["total"] == len(listed) == total, args


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/New_York"])
def test_months_are_utc_whatever_the_local_zone(small: Cli, zone: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ftjobs", "--db", str(small.db), "stats", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": zone},
        check=True,
    )
    assert json.loads(result.stdout)["by_month"] == EXPECTED["by_month"]


def test_stats_piped_is_tab_separated_lines(small: Cli) -> None:
    lines = small.ok("stats").stdout.splitlines()
    assert lines[0] == "total\t5"
    assert "status\tsucceeded\t2" in lines
    assert "month\t2024-01\t1" in lines
    assert "tokens\tm1\t3000" in lines
    assert "duration_median_seconds\t200" in lines
    assert "success_rate\t0.5000" in lines


def test_stats_of_an_empty_store_is_zeros(cli: Cli) -> None:
    cli.create_store()
    got = cli.json("stats", "--json")
    assert got["total"] == 0 and got["trained_tokens"] == 0
    assert got["by_status"] == got["by_model"] == got["by_month"] == {}
    assert got["success_rate"] is None
    assert got["duration_seconds"] == {"median": None, "p90": None, "jobs": 0}
    assert cli.ok("stats").stdout.splitlines()[0] == "total\t0"


def test_read_commands_never_create_a_store(cli: Cli) -> None:
    for command in ("stats", "info"):
        assert "no ftjobs store" in cli.fails(1, command).stderr
    assert not cli.db.exists()


@pytest.mark.parametrize("columns", [80, 160])
def test_stats_on_a_terminal(small: Cli, columns: int) -> None:
    screen = run_in_terminal(small.db, "stats", columns=columns)
    assert screen.exit_code == 0, screen.text
    assert "Traceback" not in screen.text
    text = "\n".join(screen.lines)
    assert "5 jobs" in text and "50.0% of 4 finished succeeded" in text
    assert "median 3m 20s, 90% within 6m 40s" in text
    assert "█" in text
    assert re.search(r"2024-02\s+2\s+█+", text), text
    assert all(len(line) <= columns for line in screen.lines), screen.text


def test_stats_on_a_terminal_without_jobs(cli: Cli) -> None:
    cli.create_store()
    screen = run_in_terminal(cli.db, "stats")
    assert screen.exit_code == 0 and "No jobs." in screen.text


def test_stats_with_no_color_and_a_dumb_terminal(small: Cli) -> None:
    dumb = run_in_terminal(small.db, "stats", env={"TERM": "dumb"})
    assert dumb.exit_code == 0 and ESCAPE not in dumb.text, dumb.text
    assert "By status" in dumb.text
    no_color = run_in_terminal(small.db, "stats", env={"NO_COLOR": "1"})
    assert no_color.exit_code == 0
    assert not re.search(r"\x1b\[[0-9;]*3[0-7]m", no_color.text), no_color.text


def test_info_tables_lists_every_table_and_its_rows(small: Cli) -> None:
    """info --tables: the file's tables and their rows (sqlite-utils' introspection), without
    the FTS index's own storage tables; plain info leaves them out."""
    assert "tables" not in small.json("info", "--json")
    tables = small.json("info", "--tables", "--json")["tables"]
    with connect(small.db) as conn:
        expected = {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'jobs_fts_%' AND name NOT LIKE 'sqlite_%'"
            )
        }
    assert tables == expected
    assert tables["jobs"] == 5 and tables["jobs_fts"] == 5 and tables["job_events"] == 0
    lines = small.ok("info", "--tables").stdout.splitlines()
    assert "table.jobs\t5" in lines and "table.jobs_fts\t5" in lines


def test_info_counts_what_the_store_holds(small: Cli) -> None:
    got = small.json("info", "--json")
    assert got["path"] == str(small.db.resolve())
    assert got["size_bytes"] > 0 and got["schema_version"] == SCHEMA_VERSION
    assert got["jobs"] == 5
    assert got["jobs_by_status"] == EXPECTED["by_status"]
    assert got["events"] == got["checkpoints"] == got["result_file_contents"] == 0
    assert got["result_files"] == 6  # make_job lists n % 3 files: 1 + 2 + 0 + 1 + 2
    assert got["last_sync_at"] is None
    lines = small.ok("info").stdout.splitlines()
    assert "jobs\t5" in lines and "status.succeeded\t2" in lines and "last_sync_at\t" in lines
    screen = run_in_terminal(small.db, "info")
    assert screen.exit_code == 0 and "schema version" in screen.text
    assert "succeeded 2" in screen.text


# -- stats on a screen: the headline first, fitted to 80x24 ------------------------------------

# Twelve models in eight families as --model finds them (a name and its dated snapshots; a
# fine-tuned model is its own), over 2022-01 to 2024-12 with months without jobs between.
_MODELS = [
    "gpt-4o-mini-2024-07-18", "gpt-4o-mini", "gpt-4o-2024-08-06", "gpt-3.5-turbo-0125",
    "gpt-3.5-turbo-1106", "gpt-4-0613", "babbage-002", "davinci-002", "gpt-4.1-2025-04-14",
    "gpt-4.1-mini-2025-04-14", "o4-mini-2025-04-16", "ft:gpt-4o-mini-2024-07-18:acme::abc",
]  # fmt: skip
_FAMILIES = {
    "gpt-4o-mini", "gpt-4o", "gpt-3.5-turbo", "gpt-4", "babbage-002", "davinci-002", "gpt-4.1",
    "gpt-4.1-mini", "o4-mini", "ft:gpt-4o-mini-2024-07-18:acme::abc",
}  # fmt: skip
_MONTH_STARTS = [  # 2022-01 .. 2022-06, 2023-03 .. 2024-06, 2024-10 .. 2024-12 (UTC)
    1_640_995_200 + 2_629_746 * m for m in [*range(6), *range(14, 30), *range(33, 36)]
]


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("many")
    statuses = ["succeeded", "succeeded", "succeeded", "failed", "cancelled", "running"]
    jobs = []
    for n in range(300):
        created = _MONTH_STARTS[n % len(_MONTH_STARTS)] + 86_400 * (n % 7)
        status = statuses[n % len(statuses)]
        jobs.append(
            make_job(
                n, model=_MODELS[n % len(_MODELS)], status=status, created_at=created,
                finished_at=None if status == "running" else created + 600 * (1 + n % 20),
                trained_tokens=1000 * n if status == "succeeded" else None,
            )
        )  # fmt: skip
    cli = Cli(folder / "jobs.db")
    cli.ok("import", write_jsonl(folder / "jobs.jsonl", jobs))
    return cli.db


_ROW = re.compile(r"^  (\S.*?)\s{2,}([0-9,]+)\s+[█▏▎▍▌▋▊▉#]+\s*(.*)$")


def _check_fits(screen_lines: list[str], columns: int, lines: int) -> None:
    """Within the screen, the shell prompt's line left; every chart row whole (no number
    split over two lines)."""
    assert len(screen_lines) <= lines - 1, "\n".join(screen_lines)
    assert all(len(line) <= columns for line in screen_lines), "\n".join(screen_lines)


@pytest.mark.parametrize(
    ("columns", "lines", "env"),
    [(80, 24, {}), (160, 40, {}), (80, 24, {"NO_COLOR": "1"}), (80, 24, {"TERM": "dumb"})],
)
def test_stats_fits_the_screen_headline_first(
    many: Path, columns: int, lines: int, env: dict[str, str]
) -> None:
    screen = run_in_terminal(many, "stats", columns=columns, rows=lines, env=env)
    assert screen.exit_code == 0 and "Traceback" not in screen.text, screen.text
    shown = screen.lines
    _check_fits(shown, columns, lines)
    assert shown[0].startswith("300 jobs   "), shown[0]
    assert shown[1].startswith("time to finish: median ") and shown[2].startswith("trained")
    text = "\n".join(shown)
    assert "By status" in text and "By model" in text and "By month created (UTC)" in text
    # The months without jobs, July to September 2024, in one row.
    assert re.search(r"^  2024-07 … 2024-09\s+no jobs\s*$", text, re.MULTILINE), text
    assert "2024-12" in text and "2024-08" not in text.replace("2024-07 … 2024-09", "")
    if env.get("TERM") == "dumb":
        assert ESCAPE not in screen.text


def test_stats_groups_models_as_model_finds_them(many: Path) -> None:
    """Each model row is a family: its count is what `--model FAMILY` counts. (On a dumb
    terminal 160 wide: the fine-tuned model's 35 characters, cut at 80, are whole.)"""
    screen = run_in_terminal(many, "stats", columns=160, rows=60, env={"TERM": "dumb"})
    assert screen.exit_code == 0, screen.text
    text = "\n".join(screen.lines)
    models = text.split("By model")[1].split("By month")[0]
    rows = {}
    for line in models.splitlines()[1:]:
        match = _ROW.match(line)
        if match:
            label = re.sub(r" \(\d+ models\)$", "", match.group(1))
            rows[label] = int(match.group(2).replace(",", ""))
    assert set(rows) == _FAMILIES, rows
    assert "gpt-4o-mini (2 models)" in models and "gpt-3.5-turbo (2 models)" in models
    cli = Cli(many)
    for family, count in rows.items():
        assert cli.json("stats", "--json", "--model", family)["total"] == count, family


def test_stats_of_one_job_and_of_none_at_80x24(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "jobs.db")
    cli.create_store()
    empty = run_in_terminal(cli.db, "stats", columns=80, rows=24)
    assert empty.exit_code == 0 and empty.lines == ["No jobs."], empty.text
    cli.add("--created-at", "2024-07-18", model="gpt-4o-mini-2024-07-18")
    one = run_in_terminal(cli.db, "stats", columns=80, rows=24)
    assert one.exit_code == 0, one.text
    _check_fits(one.lines, 80, 24)
    assert one.lines[0] == "1 job"
    assert any(re.match(r"  gpt-4o-mini\s+1\s+█+\s+0 tok", line) for line in one.lines)
    assert any(re.match(r"  2024-07\s+1\s+█+", line) for line in one.lines)


def test_fold_months_and_model_family() -> None:
    from ftjobs.render.insights import fold_months, model_family

    assert fold_months({"2024-01": 2, "2024-02": 0, "2024-05": 1, "2024-07": 3}) == [
        ("2024-01", 2, ""),
        ("2024-02 … 2024-04", None, "no jobs"),
        ("2024-05", 1, ""),
        ("2024-06", None, "no jobs"),
        ("2024-07", 3, ""),
    ]
    assert fold_months({}) == []
    assert [model_family(m) for m in ("gpt-4o-mini-2024-07-18", "gpt-3.5-turbo-0125")] == [
        "gpt-4o-mini", "gpt-3.5-turbo",
    ]  # fmt: skip
    assert model_family("babbage-002") == "babbage-002"
    assert model_family("ft:gpt-4o-mini-2024-07-18:acme::abc").startswith("ft:")
