"""`ftjobs help [CMD]`: the help a user would get from `ftjobs [CMD] --help`, for those who
type it the way git and pip take it."""

from __future__ import annotations

import difflib
from typing import Annotated

import typer

from ftjobs.cli.app import COMMAND_ORDER, app


def _command_names(incomplete: str) -> list[str]:
    return [name for name in COMMAND_ORDER if name.startswith(incomplete)]


@app.command(
    name="help",
    epilog="Example: ftjobs help list (the same as ftjobs list --help)",
)
def show_help(
    ctx: typer.Context,
    command: Annotated[
        str | None,
        typer.Argument(
            metavar="CMD",
            help="The command to explain (default: all of them).",
            autocompletion=_command_names,
        ),
    ] = None,
) -> None:
    """Show the help of ftjobs, or of one command."""
    group_ctx = ctx.parent
    assert group_ctx is not None  # (help is only ever run as a subcommand of ftjobs)
    group = group_ctx.command
    if command is None:
        # Parsing `--help` prints the help and exits 0, as `ftjobs --help` does.
        group.make_context(group_ctx.info_name, ["--help"])
        return
    target = group.get_command(group_ctx, command)  # type: ignore[attr-defined]
    if target is None:
        nearest = difflib.get_close_matches(command, COMMAND_ORDER, n=1)
        hint = f" (did you mean '{nearest[0]}'?)" if nearest else ""
        typer.echo(f"Error: no command '{command}'{hint}", err=True)
        typer.echo(f"Commands: {', '.join(COMMAND_ORDER)}", err=True)
        raise typer.Exit(2)
    target.make_context(command, ["--help"], parent=group_ctx)
