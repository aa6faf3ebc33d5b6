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

    python bench/generate_events.py --jobs 4000 --events-per-job 250 -o bench/out/events-4000x250
    python bench/generate_events.py --jobs 1 --events-per-job 250000 -o bench/out/events-1x250000
"""

from __future__ import annotations

import argparse
import math
import random
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate

# Checkpoint per epoch; with 1-4 epochs a job has 7-10 message events around its steps.
FIXED_MESSAGES = 6


def spell(value: float) -> str:
    """A float as the API writes it: Python's shortest round trip, but ``e-5``, not ``e-05``."""
    text = repr(value)
    if "e-0" in text or "e+0" in text:
        text = text.replace("e-0", "e-").replace("e+0", "e+")
    return text


def float32(value: float) -> float:
    """The double nearest a float32, as token accuracies come (``0.9444444179534912``)."""
    return struct.unpack("f", struct.pack("f", value))[0]


class EventFactory:
    """Events of one job after another; all randomness from one seeded rng."""

    def __init__(self, seed: int, spaced: bool = False) -> None:
        self.rng = random.Random(seed * 7919 + 17)
        self.colon, self.comma = (": ", ", ") if spaced else (":", ",")

    def event_id(self) -> str:
        return "ftevent-" + generate.rand_str(self.rng, 24)

    def text(self, created_at: int, message: str, data: str, kind: str) -> str:
        c, s = self.colon, self.comma
        return (
            f'{{"object"{c}"fine_tuning.job.event"{s}"id"{c}"{self.event_id()}"{s}'
            f'"created_at"{c}{created_at}{s}"level"{c}"info"{s}"message"{c}"{message}"{s}'
            f'"data"{c}{data}{s}"type"{c}"{kind}"}}'
        )

    def accuracy(self, level: float) -> float:
        """A token accuracy: correct / total tokens of a batch, as float32."""
        total = self.rng.randint(12, 400)
        correct = min(total, max(0, round(total * min(1.0, level + self.rng.gauss(0, 0.05)))))
        return float32(correct / total)

    def job_events(self, job: dict, count: int) -> list[str]:
        """count events of one job, oldest first (the caller turns them around)."""
        rng = self.rng
        c, s = self.colon, self.comma
        epochs = rng.randint(1, 4)
        steps = max(1, count - FIXED_MESSAGES - epochs)
        epoch_end = {round(steps * (e + 1) / epochs) for e in range(epochs)}
        has_valid = job.get("validation_file") is not None or rng.random() < 0.35
        # ~10% of jobs overfit: the training loss runs down to 1e-5 and below.
        overfits = rng.random() < 0.1
        floor_loss = 10 ** rng.uniform(-7, -5) if overfits else rng.uniform(0.05, 0.4)
        decay = 16 if overfits else 6
        start_loss = rng.uniform(1.2, 3.5)
        t = job["created_at"]
        model = job["model"]
        snapshot = generate.rand_str(rng, 8)
        fine_tuned = job.get("fine_tuned_model") or f"ft:{model}:personal::{snapshot}"
        none_or_empty = ("null", "{}")

        out = [
            self.text(t, f"Created fine-tuning job: {job['id']}", "{}", "message"),
            self.text(t, f"Validating training file: {job['training_file']}", "{}", "message"),
        ]
        t += rng.randint(20, 600)
        out.append(self.text(t, "Files validated, moving job to queued state", "{}", "message"))
        t += rng.randint(10, 900)
        out.append(self.text(t, "Fine-tuning job started", "null", "message"))
        for step in range(1, steps + 1):
            t += rng.choice((0, 0, 1, 1, 1, 2, 3))
            progress = step / steps
            loss = floor_loss + (start_loss - floor_loss) * math.exp(-decay * progress)
            train_loss = loss * rng.lognormvariate(0, 0.25)
            level = 0.55 + 0.45 * (1 - math.exp(-5 * progress))
            keys = [f'"step"{c}{step}', f'"train_loss"{c}{spell(train_loss)}']
            message = f"Step {step}/{steps}: training loss={train_loss:.2f}"
            valid = has_valid and (step % 10 == 0 or step == steps)
            full = has_valid and step in epoch_end
            if valid:
                valid_loss = loss * rng.lognormvariate(0.15, 0.3)
                keys.append(f'"valid_loss"{c}{spell(valid_loss)}')
                message += f", validation loss={valid_loss:.2f}"
            keys.append(f'"total_steps"{c}{steps}')
            if full:
                full_loss = loss * rng.lognormvariate(0.2, 0.1)
                keys.append(f'"full_valid_loss"{c}{spell(full_loss)}')
                message += f", full validation loss={full_loss:.2f}"
            keys.append(f'"train_mean_token_accuracy"{c}{spell(self.accuracy(level))}')
            if valid:
                keys.append(f'"valid_mean_token_accuracy"{c}{spell(self.accuracy(level - 0.03))}')
            if full:
                keys.append(
                    f'"full_valid_mean_token_accuracy"{c}{spell(self.accuracy(level - 0.05))}'
                )
            out.append(self.text(t, message, "{" + s.join(keys) + "}", "metrics"))
            if step in epoch_end:
                checkpoint = f"{fine_tuned}:ckpt-step-{step}" if step != steps else fine_tuned
                out.append(
                    self.text(
                        t,
                        f"Checkpoint created at step {step} with Snapshot ID: {checkpoint}",
                        rng.choice(none_or_empty),
                        "message",
                    )
                )
        t += rng.randint(5, 120)
        out.append(
            self.text(
                t,
                f"New fine-tuned model created: {fine_tuned}",
                rng.choice(none_or_empty),
                "message",
            )
        )
        out.append(self.text(t, "The job has successfully completed", "{}", "message"))
        return out


def generate_events(
    jobs: int, per_job: int, seed: int, spaced: bool = False
) -> Iterator[tuple[str, list[str]]]:
    """(job id, its events newest first) for the first `jobs` of generate.py's sequence."""
    factory = EventFactory(seed, spaced)
    for job in generate.generate(jobs, seed):
        events = factory.job_events(job, per_job)
        events.reverse()  # the API lists newest first
        yield job["id"], events


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
