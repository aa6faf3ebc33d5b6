"""``python -m bench NAME [ARGS]``: run one benchmark (or one of its parts) by name;
``python -m bench`` alone lists them. Run from the repository root, with the venv's Python that
has ftjobs installed: the scripts import the bench package and tests.support from there."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

# Name -> module of the bench package, in the order the list shows them: the drivers first,
# then the parts they run as child processes (each also runs on its own).
BENCHMARKS = {
    "run": "run",
    "sync": "run_sync",
    "startup": "startup",
    "reads": "reads",
    "sqlite-utils-paths": "sqlite_utils_paths",
    "generate": "generate",
    "generate-events": "generate_events",
    "floor": "floor",
    "floor-events": "floor_events",
    "ftjobs-events": "ftjobs_events",
    "read-events": "read_events",
    "fake-server": "fake_server",
    "sync-floor": "sync_floor",
    "sample-cpu": "sample_cpu",
}


def summary(module: str) -> str:
    """The first sentence of a module's docstring, read from its source: listing imports none."""
    path = Path(__file__).with_name(f"{module}.py")
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return first.split(". ")[0].split(": ")[0].rstrip(".")


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "list"):
        print("usage: python -m bench NAME [ARGS]   (NAME --help for its options)\n")
        width = max(map(len, BENCHMARKS))
        for name, module in BENCHMARKS.items():
            line = summary(module)
            room = 100 - width - 4
            print(f"  {name:{width}}  {line if len(line) <= room else line[: room - 3] + '...'}")
        return 0
    name, *args = argv
    module = BENCHMARKS.get(name) or BENCHMARKS.get(name.replace("_", "-"))
    if module is None:
        print(f"Error: no benchmark {name!r}; `python -m bench` lists them.", file=sys.stderr)
        return 2
    sys.argv = [f"python -m bench {name}", *args]
    entry = importlib.import_module(f"bench.{module}").main
    # Scripts whose main() takes no arguments read sys.argv, set above.
    result = entry(args) if inspect.signature(entry).parameters else entry()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
