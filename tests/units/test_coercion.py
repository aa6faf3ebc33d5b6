"""ftjobs.cli.coercion converts option values as typer 0.29 does with pydantic, for every
parameter of every command it takes over: the same value, or an error for the same inputs
(the wording of an error may differ: click's "'x' is not a valid integer." where pydantic says
"Input should be a valid integer")."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from ftjobs.cli import coercion
from ftjobs.cli.app import COMMAND_MODULES

pytestmark = pytest.mark.skipif(
    not coercion.hooked(), reason="this typer converts values without pydantic: nothing replaced"
)

SAMPLES = [
    "5", " 7 ", "0", "-1", "2.5", "1e3", "abc", "", "true", "no", "created_at", "Created_At",
    "succeeded", "bogus", "jsonl", "skip", "2024-07-01", "1719792000", "k=v", "k=", "ftjob-x",
    "-", "/tmp", "no/such/dir/file.db", "nan", "NaN", "inf", "-inf", "1_000",
]  # fmt: skip


def _outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        return "value", repr(runtime.coerce(value, param=param, ctx=ctx))  # (nan == nan)
    except (typer.BadParameter, typer.TyperException):
        return "error", None


def _every_parameter() -> list[tuple[str, Any]]:
    from typer._coercion import build_runtime_param

    from ftjobs.cli.app import _build_command, _tidy, app

    group = typer.main.get_command(app)
    for param in group.params:  # (the group does this as it parses its arguments)
        _tidy(param)
    found = []
    for name, command in [("ftjobs", group)] + [(n, _build_command(n)) for n in COMMAND_MODULES]:
        for param in command.params:
            ours = getattr(param, "_runtime_param", None)
            if ours is not None:
                found.append((f"{name} {param.name}", (command, param, ours, build_runtime_param)))
    return found


@pytest.mark.parametrize(("where", "parts"), _every_parameter(), ids=lambda item: str(item)[:40])
def test_each_converter_agrees_with_typers_own(where: str, parts: Any) -> None:
    command, param, ours, build_runtime_param = parts
    theirs = build_runtime_param(param.type_descriptor)
    ctx = typer.Context(command)
    samples: list[Any] = [*SAMPLES, param.default]
    if param.multiple or param.nargs == -1:
        samples = [(value,) for value in SAMPLES] + [("5", "7"), ()]
    for value in samples:
        assert _outcome(ours, value, param, ctx) == _outcome(theirs, value, param, ctx), (
            where,
            value,
        )
