"""``python -m bench NAME [ARGS]``: run one benchmark (or one of its parts) by name;
``python -m bench`` alone lists them. Run from the repository root, with the venv's Python that
has ftjobs installed: the scripts import the bench package and tests.support from there."""

from __future__ import annotations

import importlib
import inspect
import sys

# Name -> (module of the bench package, what it does), in the order the list shows them: the
# drivers first, then the parts they run as child processes (each also runs on its own).
BENCHMARKS = {
    "run": ("run", "import/export against a stdlib floor and sqlite-utils; --events, --sync"),
    "sync": ("run_sync", "ftjobs sync against a local fake API, and a stdlib floor's fetches"),
    "startup": ("startup", "start-up of ftjobs' commands against a bare Typer app"),
    "reads": ("reads", "read commands on a 1M-job store against a 20-job one"),
    "sqlite-utils-paths": ("sqlite_utils_paths", "where sqlite-utils could do the store's work"),
    "full-export": ("full_export", "export --full and its import of N jobs x E events"),
    "generate": ("generate", "N realistic fine_tuning.job objects, seeded (tests/support)"),
    "generate-events": ("generate_events", "events for the generated jobs, a file per job"),
    "floor": ("floor", "the speed floor of import: the same rows by json.loads + executemany"),
    "floor-events": ("floor_events", "the speed floor of import --job: events' rows"),
    "ftjobs-events": ("ftjobs_events", "ftjobs' own import --job path, all jobs in one process"),
    "read-events": ("read_events", "Store.events / Store.metrics timed, with their query plans"),
    "fake-server": ("fake_server", "the tests' fake API serving generated jobs and histories"),
    "sync-floor": ("sync_floor", "the speed floor of sync: its requests, stdlib only"),
    "sample-cpu": ("sample_cpu", "an ftjobs command under a CPU sampler: where its CPU went"),
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "list"):
        width = max(map(len, BENCHMARKS))
        lines = [f"  {name:{width}}  {what}" for name, (_, what) in BENCHMARKS.items()]
        try:
            print("usage: python -m bench NAME [ARGS]   (NAME --help for its options)\n")
            print("\n".join(lines))
        except BrokenPipeError:  # `| head` stopped reading: not an error
            sys.stderr.close()
        return 0
    name, *args = argv
    found = BENCHMARKS.get(name) or BENCHMARKS.get(name.replace("_", "-"))
    if found is None:
        print(f"Error: no benchmark {name!r}; `python -m bench` lists them.", file=sys.stderr)
        return 2
    sys.argv = [f"python -m bench {name}", *args]
    entry = importlib.import_module(f"bench.{found[0]}").main
    # Scripts whose main() takes no arguments read sys.argv, set above.
    result = entry(args) if inspect.signature(entry).parameters else entry()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
