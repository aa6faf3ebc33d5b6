"""One output switch (ftjobs.render.output.choose_output) for every command: the format a flag
asks for, else a terminal view when stdout is a terminal, else plain piped text; and one rule,
one message, for two formats asked for at once."""

from __future__ import annotations

import os
import pty
from collections.abc import Iterator
from typing import IO

import pytest
from support.helpers import Cli, error_line

from ftjobs.errors import BadInput
from ftjobs.render.output import OutputMode, choose_output


@pytest.fixture
def terminal() -> Iterator[IO[str]]:
    main_fd, child_fd = pty.openpty()
    try:
        with os.fdopen(child_fd, "w") as stream:  # (a terminal while its other side is open)
            yield stream
    finally:
        os.close(main_fd)


@pytest.fixture
def pipe() -> Iterator[IO[str]]:
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    with os.fdopen(write_fd, "w") as stream:
        yield stream


def test_no_flag_a_terminal_gets_the_terminal_view_and_a_pipe_plain_text(
    terminal: IO[str], pipe: IO[str]
) -> None:
    assert choose_output(stream=terminal) is OutputMode.TERMINAL
    assert choose_output(stream=pipe) is OutputMode.PLAIN
    assert choose_output(json=False, csv=False, stream=pipe) is OutputMode.PLAIN


@pytest.mark.parametrize("flag", ["json", "jsonl", "csv", "tsv"])
def test_a_flag_wins_over_the_terminal(flag: str, terminal: IO[str], pipe: IO[str]) -> None:
    for stream in (terminal, pipe):
        mode = choose_output(stream=stream, **{flag: True})
        assert mode is OutputMode[flag.upper()]
        assert mode.whole_records == (flag in ("json", "jsonl"))


def test_two_flags_are_refused_naming_them_in_the_commands_order(pipe: IO[str]) -> None:
    with pytest.raises(BadInput, match=r"^choose one of --csv and --json$"):
        choose_output(csv=True, json=True, stream=pipe)
    with pytest.raises(BadInput, match=r"^choose one of --json and --jsonl and --tsv$"):
        choose_output(json=True, jsonl=True, csv=False, tsv=True, stream=pipe)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--json", "--csv"], "choose one of --json and --csv"),
        (["list", "--jsonl", "--csv", "--tsv"], "choose one of --jsonl and --csv and --tsv"),
        (["search", "x", "--json", "--jsonl"], "choose one of --json and --jsonl"),
        (["events", "ftjob-a", "--json", "--jsonl"], "choose one of --json and --jsonl"),
        (["checkpoints", "ftjob-a", "--jsonl", "--json"], "choose one of --json and --jsonl"),
        (["metrics", "ftjob-a", "--json", "--csv"], "choose one of --csv and --json"),
    ],
)
def test_every_command_refuses_two_formats_before_reading_anything(
    cli: Cli, args: list[str], message: str
) -> None:
    cli.add("--id", "ftjob-a")
    result = cli.fails(2, *args)
    assert error_line(result) == f"Error: {message}"
