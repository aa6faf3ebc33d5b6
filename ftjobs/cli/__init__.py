"""The `ftjobs` command line: parse options, call one function, render the result.

Where things live:

- `app.py`: the Typer app, error handling (one `Error:` line; exit 0, 1 or 2), the global
  options and `open_store()`.
- `options.py`: value parsers and the option types several commands share.
- one module per command group, named as typed, each registering its commands on `app`:
  `sync.py`, `jobs.py` (add, show, update, attach, delete), `list.py`, `history.py` (events,
  checkpoints), `metrics.py`, `diff.py`, `transfer.py` (import, export, backup), `insights.py`
  (info, stats, search, check), `help.py`.

Heavy modules (pydantic, sqlite-utils, rich tables, ftjobs.store, ftjobs.api.models) are imported
inside the commands that need them, never at the top of a module here, so `ftjobs --help` and
`ftjobs --version` answer quickly (tests/guarantees/test_cli_layout.py checks it).
"""

from __future__ import annotations

# The command modules are imported when their commands are asked for (app.COMMAND_MODULES).
from ftjobs.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
