"""The Typer app and what every command shares: error handling, global options, the store.

Commands live in modules by concern (jobs, queries, transfer, ...) and register themselves on
`app` when their module is imported. `ftjobs list` imports and builds `list` alone: the group
knows which module holds each command (COMMAND_MODULES) and loads it when it is asked for, as
click's lazy groups do, so a command's start-up does not pay for the other fourteen.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import os
import re
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand, TyperGroup

from ftjobs import __version__
from ftjobs.cli import coercion
from ftjobs.errors import FtjobsError

if TYPE_CHECKING:
    from ftjobs.store import Store

# Every command, in the order `ftjobs --help` lists them, and the module (in ftjobs.cli) that
# registers it; tests/guarantees/test_cli_layout.py checks that this matches what the modules
# register.
COMMAND_MODULES = {
    "sync": "sync",
    "add": "jobs",
    "list": "list",
    "show": "jobs",
    "events": "history",
    "checkpoints": "history",
    "metrics": "metrics",
    "diff": "diff",
    "update": "jobs",
    "attach": "jobs",
    "delete": "jobs",
    "import": "transfer",
    "export": "transfer",
    "backup": "transfer",
    "stats": "insights",
    "search": "insights",
    "info": "insights",
    "check": "insights",
    "help": "help",
}
COMMAND_ORDER = tuple(COMMAND_MODULES)


def _tidy(param: Any) -> Any:
    """What every option gets: a plain converter (see ftjobs.cli.coercion), and help that
    reads cleanly at 80 columns: no `<bool>` after a flag (it says nothing a flag does not say
    itself; an empty metavar leaves the column blank), and an option's value named as argparse
    names it, `--seed SEED`, where typer would print its Python type (`<str>`, `<int range>`,
    `<list[str]>`). Choices keep their list; options with a metavar of their own keep it."""
    if param is None:
        return param
    coercion.install(param)
    if param.param_type_name == "argument":
        return _tidy_argument(param)
    if param.metavar is not None:
        return param
    if getattr(param, "is_flag", False):
        param.metavar = ""
    elif param.param_type_name == "option" and param.name:
        choices = _choices(param)
        # A choice's values as a user types them, `json|jsonl`, not typer's `<json|jsonl>`.
        values = [getattr(choice, "value", choice) for choice in choices or ()]
        param.metavar = (
            "|".join(map(str, values))
            if values
            else _VALUE_NAMES.get(param.name, param.name.upper())
        )
    return param


def _tidy_argument(param: Any) -> Any:
    """An argument as a user types it: `JOB_ID` (`JOB_ID...` for several, `[FILE]...` when
    optional) in the usage line, where typer writes `{JOB_ID}`, and in the Arguments panel
    without typer's type column (`<str>`, `<list[str]>`, `<path>`): the name says it."""
    name = param.metavar or (param.name or "").upper()
    several = param.nargs != 1
    usage = name if param.required else f"[{name}]"
    usage += "..." if several else ""
    param.metavar = name  # (error messages name it too: "Missing argument 'JOB_ID'")
    # typer's hooks for these (instance attributes win over its methods).
    param.display_type_rich = lambda ctx: None
    param.display_type = lambda ctx: ""
    param._usage_display_name = lambda: usage
    param.get_usage_pieces = lambda ctx: [usage]
    return param


# Options whose name says little about the value they take.
_VALUE_NAMES = {"db": "FILE", "limit": "N", "output": "FILE"}

# Under every command's help: the options that go before the command (a user reads `ftjobs
# list --help`, not `ftjobs --help`, for how to point list at another store).
GLOBAL_OPTIONS_NOTE = (
    "Before the command: --db FILE (the store; or FTJOBS_DB), --busy-timeout SECONDS "
    "(or FTJOBS_BUSY_TIMEOUT): ftjobs --db FILE {name} ... See ftjobs --help."
)


def _choices(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)  # typer 0.29; 0.28: a click Choice
    return descriptor.choices if descriptor is not None else getattr(param.type, "choices", None)


class _FtjobsCommand(TyperCommand):
    """Every ftjobs command: its options tidied, the help option click makes on the fly too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _tidy(param)

    def get_help_option(self, ctx: Any) -> Any:
        return _tidy(super().get_help_option(ctx))


def _build_command(name: str) -> Any:
    """Import the module that registers a command, and build that command alone."""
    importlib.import_module(f"ftjobs.cli.{COMMAND_MODULES[name]}")
    for info in app.registered_commands:
        if (
            info.callback is not None
            and (info.name or info.callback.__name__.lower().replace("_", "-")) == name
        ):
            # A one-command Typer builds exactly one click command, with the app's settings.
            single = typer.Typer(
                add_completion=False,
                pretty_exceptions_enable=False,
                rich_markup_mode=app.rich_markup_mode,
            )
            ours = copy.copy(info)  # the registration itself stays as the module made it
            note = GLOBAL_OPTIONS_NOTE.format(name=name)
            ours.epilog = f"{info.epilog}\n\n{note}" if info.epilog else note
            if info.cls in (None, TyperCommand):  # (typer's default; a module's own stays)
                ours.cls = _FtjobsCommand
            single.registered_commands.append(ours)
            return typer.main.get_command(single)
    raise LookupError(f"ftjobs.cli.{COMMAND_MODULES[name]} registers no command {name!r}")


class _Commands(MutableMapping[str, Any]):
    """The group's commands, each built on first use. Every name is known up front, so help,
    completion and "did you mean" see all of them."""

    def __init__(self, built: MutableMapping[str, Any]) -> None:
        # Commands typer built already (their modules were imported before: tests, mostly)
        # are built again here, as _FtjobsCommand.
        self._built = {
            name: command for name, command in built.items() if name not in COMMAND_MODULES
        }

    def __getitem__(self, name: str) -> Any:
        command = self._built.get(name)
        if command is None:
            if name not in COMMAND_MODULES:
                raise KeyError(name)
            command = self._built[name] = _build_command(name)
        return command

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMAND_MODULES, *self._built]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*COMMAND_MODULES, *self._built]))


class _FtjobsGroup(TyperGroup):
    """Turns expected failures into one `Error:` line on stderr and a meaningful exit status."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands(self.commands)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        for param in self.params:  # here, not in __init__: typer adds --install-completion later
            _tidy(param)
        return super().parse_args(ctx, args)

    def get_help_option(self, ctx: Any) -> Any:
        return _tidy(super().get_help_option(ctx))

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        if not standalone_mode:
            return super().main(*args, **kwargs)
        # typer (>= 0.26) raises its own copy of click's exceptions, whose public bases are
        # typer.Abort and typer.TyperException; `import click` would name other classes.
        try:
            result = super().main(*args, **kwargs)
        except typer.Abort:  # "no" at a confirmation prompt
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        except typer.TyperException as error:
            # Usage errors (a bad option value, a missing argument) as one line, where typer
            # would draw a panel.
            message = error.format_message().replace("Value error, ", "")
            if message:  # (none when `ftjobs` alone printed the help)
                typer.echo(f"Error: {message}{_usage_hint(error, message)}", err=True)
            sys.exit(error.exit_code)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader (`| head`) went away: not an error worth a traceback.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            # Ctrl-C: every write is one transaction, rolled back on the way out, so nothing
            # was changed; one line, and the shell's status for SIGINT (128 + 2).
            # (sync reports its own: what it had finished is kept.)
            what = (
                "Interrupted: nothing was imported"
                if ctx.invoked_subcommand == "import"
                else "Interrupted; the store is unchanged"
            )
            typer.echo(what, err=True)
            raise typer.Exit(130) from None
        except Exception as error:
            handled = _describe_failure(error)
            if handled is None or os.environ.get("FTJOBS_DEBUG") == "1":
                raise
            message, code = handled
            fail(message, code)


def _usage_hint(error: Exception, message: str) -> str:
    if "--db" in message:
        return " (--db goes before the command: ftjobs --db FILE list)"
    typo = re.search(r"'([^']*)' is not one of (.*)\.", message)
    if typo:  # a choice misspelt: name the nearest one
        choices = re.findall(r"'([^']*)'", typo.group(2))
        nearest = difflib.get_close_matches(typo.group(1), choices, n=1)
        if nearest:
            return f" (did you mean '{nearest[0]}'?)"
    context = getattr(error, "ctx", None)
    return f" (see '{context.command_path} --help')" if context is not None else ""


def _describe_failure(error: Exception) -> tuple[str, int] | None:
    if isinstance(error, FtjobsError):
        return str(error), error.exit_code
    if isinstance(error, OverflowError):
        return "a number is too large to store (SQLite keeps 64-bit integers)", 2
    if isinstance(error, UnicodeEncodeError):
        # Bytes that are not UTF-8 reach Python as lone surrogates, which SQLite cannot store.
        bad = error.object[error.start : error.end]
        return f"text is not valid UTF-8 (near {bad!r}); nothing was changed", 2
    if "pydantic" in sys.modules:
        from pydantic import ValidationError

        from ftjobs.api.models import describe_validation_error

        if isinstance(error, ValidationError):
            return f"invalid job: {describe_validation_error(error)}", 2
    return None


def confirm(question: str) -> None:
    """Ask on the terminal; "no" aborts (exit 1). Ctrl-C (or Ctrl-D) at the prompt is an
    interrupt as anywhere else (exit 130), where click would say "Aborted!"."""
    try:
        answer = typer.confirm(question, err=True)
    except typer.Abort:
        raise KeyboardInterrupt from None
    if not answer:
        raise typer.Abort()


def fail(message: str, code: int = 1) -> NoReturn:
    """One line on stderr, nothing on stdout, and the exit status."""
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


app = typer.Typer(
    cls=_FtjobsGroup,
    name="ftjobs",
    help=(
        "Keep a local record of OpenAI fine-tuning jobs in SQLite.\n\n"
        "Example: ftjobs add --model gpt-4o-mini --training-file file-abc123 && ftjobs list"
    ),
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstring lines wrap to the terminal, not where typed
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass(frozen=True)
class Settings:
    db_path: Path
    busy_timeout: float | None = None  # None: the store's default
    chosen: bool = False  # named by --db or FTJOBS_DB (else the default, whose folder is ours)


def default_db_path() -> Path:
    """The user's data directory, by each platform's convention."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "ftjobs" / "jobs.db"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"ftjobs {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            envvar="FTJOBS_DB",
            help="SQLite file to use (default: ftjobs/jobs.db in your data directory).",
            show_default=False,
            dir_okay=True,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    busy_timeout: Annotated[
        float | None,
        typer.Option(
            "--busy-timeout",
            envvar="FTJOBS_BUSY_TIMEOUT",
            min=0,
            metavar="SECONDS",
            help="How long to wait for another process's write lock (default: 30).",
        ),
    ] = None,
) -> None:
    """Keep a local record of OpenAI fine-tuning jobs in SQLite."""
    ctx.obj = Settings(
        db_path=db or default_db_path(), busy_timeout=busy_timeout, chosen=db is not None
    )


@contextmanager
def open_store(
    ctx: typer.Context, *, create: bool = False, keep_empty: bool = True
) -> Iterator[Store]:
    """The store the global options name. Only commands that record jobs (add, import, sync)
    pass create: the others never make a new file; and a folder is made only for the default
    store (a --db in a folder that does not exist is a mistyped path). A store this command
    made is taken away again if the command fails before it holds a job, or, without
    keep_empty, if it holds none at the end (an import that kept nothing)."""
    from ftjobs.store import DEFAULT_BUSY_TIMEOUT, Store

    settings: Settings = ctx.obj
    timeout = DEFAULT_BUSY_TIMEOUT if settings.busy_timeout is None else settings.busy_timeout
    path = settings.db_path
    new = create and not path.exists()
    with Store.open(
        path, busy_timeout=timeout, create=create, make_folder=not settings.chosen
    ) as store:
        try:
            yield store
        except BaseException:
            if new and store.holds_nothing():
                store.close()
                store.remove_files()
            raise
        if new and not keep_empty and store.holds_nothing():
            store.close()
            store.remove_files()
