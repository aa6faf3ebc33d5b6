#!/usr/bin/env python3
"""Write realistic ``fine_tuning.job.event`` objects for the jobs generate.py makes, one JSON
Lines file per job, in the API's order (newest first), deterministically.

Standard library only. The jobs are generate.py's with the same seed, so the files are named by
ids a store filled from ``generate.py --count N --seed S`` holds (``<job id>.jsonl``). A real
supervised job emits one metrics event per step, so a job here is mostly metrics events
(``Step 12/240: training loss=0.87``) between the message events of its life: created,
validating, validated, started, a checkpoint per epoch, the new model, completed. What real
data has and this keeps:

- ids ``ftevent-`` + 24 letters/digits; several events share a second (steps come 0-3 s
  apart, the closing events in the same second), and the file lists them newest first;
- ``data: null`` and ``data: {}`` both, on message events of one job;
- metrics ``data`` keys in the API's order: step, train_loss, valid_loss (every 10th step with a
  validation file), total_steps, full_valid_loss (epoch ends), train_mean_token_accuracy,
  valid_mean_token_accuracy, full_valid_mean_token_accuracy;
- floats spelt as the server spells them: shortest round trip, exponents without a leading
  zero (``1.805623287509661e-5``; Python writes ``e-05``), accuracies that are float32 ratios
  (``0.9444444179534912``), ``1.0`` kept as ``1.0``;
- compact JSON text (what ``jq -c '.data[]'`` saves from a page); ``--spaced`` writes
  ``", "`` and ``": "`` between tokens instead, which import must compact.

    python -m bench generate-events --jobs 4000 --events-per-job 250 -o bench/out/events-4000x250
    python -m bench generate-events --jobs 1 --events-per-job 250000 -o bench/out/events-1x250000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.support.generate import FIXED_MESSAGES, generate_events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=4000, help="how many jobs (default 4000)")
    parser.add_argument(
        "--events-per-job", type=int, default=250, help="events per job (default 250)"
    )
    parser.add_argument("--seed", type=int, default=1, help="generate.py's seed (default 1)")
    parser.add_argument("--spaced", action="store_true", help='write ", " and ": " between tokens')
    parser.add_argument("-o", "--output", type=Path, required=True, help="directory to write")
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.events_per_job < FIXED_MESSAGES + 5:
        parser.error(f"--jobs must be >= 1 and --events-per-job >= {FIXED_MESSAGES + 5}")
    started = time.perf_counter()
    args.output.mkdir(parents=True, exist_ok=True)
    total = size = 0
    manifest = []
    for job_id, events in generate_events(args.jobs, args.events_per_job, args.seed, args.spaced):
        path = args.output / f"{job_id}.jsonl"
        text = "\n".join(events) + "\n"
        path.write_text(text, encoding="utf-8")
        manifest.append(job_id)
        total += len(events)
        size += len(text)
    # The job ids in generation order: the order the drivers import them in.
    (args.output / "jobs.txt").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    seconds = time.perf_counter() - started
    print(
        f"wrote {total:,} events of {args.jobs:,} jobs ({size / 2**20:.1f} MiB) to {args.output}"
        f" in {seconds:.2f} s ({total / seconds:,.0f} events/s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
