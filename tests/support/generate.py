#!/usr/bin/env python3
"""Write N realistic OpenAI ``fine_tuning.job`` objects, deterministically, for benchmarks.

Standard library only, so it runs before ftjobs is installed and never measures ftjobs itself.
The same seed gives the same jobs, byte for byte, in every output format; the clock is never
read. Jobs are written as they are made, so a million of them never sit in memory.

The mix follows what real responses contain (see the spec README): every status including
``paused``; the three "no error" forms; ``hyperparameters: null`` for DPO and reinforcement jobs;
2023-style jobs with ``n_epochs`` only and no seed/integrations/method; sparse list-style jobs
missing keys the spec calls required; unknown keys at the top level and inside wandb settings;
a few wandb settings shared by many jobs.

    python -m bench generate --count 100000 --format jsonl --seed 1 -o bench/out/jobs.jsonl
    python -m bench generate --self-test --count 20000   # validate with ftjobs' pydantic model
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import random
import string
import struct
import sys
import time
from bisect import bisect
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

T = TypeVar("T")

# A fixed "now" (2026-11-01T00:00:00Z), so the output never depends on when it is generated.
NOW = 1_793_491_200
START = NOW - (3 * 365 + 1) * 86_400  # ~3 years of history
ERA_2024 = 1_704_067_200  # 2024-01-01: jobs before it look like 2023 responses
ERA_2025 = 1_735_689_600  # 2025-01-01: responses carry method, metadata and the newer extras
DAY = 86_400

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
ID_SPACE = 62**8  # the last 8 id characters are a bijection of the job's index: unique ids
ID_MULTIPLIER = 137_438_953_447  # odd and not a multiple of 31, so coprime to 62**8

FORMATS = ("jsonl", "list", "array")
CHUNK = 2_000  # jobs per write


class Weighted(Generic[T]):
    """A weighted choice that costs one random() and one bisect (random.choices costs more)."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


STATUS = Weighted(
    [
        ("succeeded", 68),
        ("failed", 14),
        ("cancelled", 9),
        ("running", 3),
        ("queued", 2.5),
        ("validating_files", 2),
        ("paused", 1.5),
    ]
)
FINAL = frozenset({"succeeded", "failed", "cancelled"})

MODELS_2023 = Weighted(
    [
        ("gpt-3.5-turbo-0613", 60),
        ("babbage-002", 15),
        ("davinci-002", 15),
        ("gpt-3.5-turbo-1106", 10),
    ]
)
MODELS_2024 = Weighted(
    [
        ("gpt-4o-mini-2024-07-18", 40),
        ("gpt-3.5-turbo-0125", 30),
        ("gpt-4o-2024-08-06", 20),
        ("gpt-3.5-turbo-1106", 10),
    ]
)
MODELS_2025 = Weighted(
    [
        ("gpt-4o-mini-2024-07-18", 30),
        ("gpt-4.1-mini-2025-04-14", 25),
        ("gpt-4o-2024-08-06", 15),
        ("gpt-4.1-2025-04-14", 15),
        ("gpt-4.1-nano-2025-04-14", 10),
        ("gpt-3.5-turbo-0125", 5),
    ]
)
REINFORCEMENT_MODEL = "o4-mini-2025-04-16"
METHOD_2025 = Weighted([("supervised", 85), ("dpo", 10), ("reinforcement", 5)])

RESULT_FILE_COUNT = {
    "succeeded": Weighted([(0, 5), (1, 80), (2, 10), (3, 5)]),
    "failed": Weighted([(0, 80), (1, 20)]),
    "cancelled": Weighted([(0, 90), (1, 10)]),
}
INTEGRATION_COUNT = Weighted([(0, 70), (1, 25), (2, 5)])
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
LR_MULTIPLIERS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 1.5, 1.8, 2, 3)
SUFFIXES = (
    "support-bot", "classifier-v2", "sql-helper", "summarizer", "tone", "extract",
    "router", "legal-qa", "triage", "codegen", "faq", "eval-judge",
)  # fmt: skip
METADATA_KEYS = ("project", "team", "experiment", "owner", "ticket", "dataset", "stage")
METADATA_VALUES = (
    "search", "support", "growth", "ml-platform", "baseline", "ablation-3", "alice", "bob",
    "v1", "v2", "prod", "staging", "2025-q3-refresh",
)  # fmt: skip
FAILURES: tuple[tuple[str, str, tuple[str | None, ...]], ...] = (
    (
        "invalid_n_examples",
        "Training file has {n} example(s), but must have at least 10 examples",
        ("training_file",),
    ),
    (
        "invalid_file_format",
        'Invalid file format. Example {n} is missing key "messages".',
        ("training_file", "validation_file"),
    ),
    (
        "exceeded_quota",
        "Fine-tuning job cannot be started because it would exceed the maximum tokens"
        " ({n}M) allowed for your organization.",
        (None,),
    ),
    ("server_error", "The job failed due to an internal error (ref {n}).", (None, None, "model")),
    (
        "invalid_training_file",
        "The job failed due to an invalid training file: line {n} is not valid JSON.",
        ("training_file", None),
    ),
    (
        "invalid_hyperparameters",
        "n_epochs * n_examples must be at most 50000000, got {n}00000.",
        ("hyperparameters.n_epochs",),
    ),
)
RFT_GRADER = {
    "type": "string_check",
    "name": "exact-match",
    "input": "{{sample.output_text}}",
    "reference": "{{item.answer}}",
    "operation": "eq",
}


def _byte_table(alphabet: str) -> bytes:
    return bytes(ord(alphabet[b % len(alphabet)]) for b in range(256))


ALNUM_BYTES = _byte_table(ALNUM)
LOWER_ALNUM_BYTES = _byte_table(LOWER_ALNUM)


def rand_str(rng: random.Random, k: int, table: bytes = ALNUM_BYTES) -> str:
    """k random characters of table's alphabet. Mapping random bytes through a table is 4x
    faster than random.choices; the first 256 % len(alphabet) characters come up slightly more
    often, which no benchmark can notice."""
    return rng.randbytes(k).translate(table).decode("ascii")


def base62(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        chars.append(ALNUM[digit])
    return "".join(chars)


def make_organizations(rng: random.Random) -> Weighted[tuple[str, str]]:
    """A few dozen organizations (id, name as it appears in fine_tuned_model), a few dominant."""
    firsts = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell")
    seconds = ("labs", "corp", "ai", "research", "ml", "data")
    names = ["personal", "my-org"] + [f"{a}-{b}" for a in firsts for b in seconds]
    rng.shuffle(names)
    return Weighted(
        [((f"org-{rand_str(rng, 24)}", names[i]), 1 / (i + 1)) for i in range(len(names))]
    )


def make_wandb_settings(rng: random.Random) -> Weighted[dict[str, Any]]:
    """About thirty wandb settings over six projects, shared by many jobs (as in real use)."""
    projects = ("ft-experiments", "support-bot", "classifier", "rlhf", "evals", "sandbox")
    names = (None, None, "baseline", "sweep-lr", "sweep-epochs", "nightly")
    entities = (None, "acme-ml", "research-team")
    tags = ("prod", "baseline", "sweep", "gpt-4o", "gpt-4.1", "nightly", "ablation")
    settings: list[tuple[dict[str, Any], float]] = []
    for i in range(30):
        tag_list: list[str] | None = rng.sample(tags, rng.randint(0, 3))
        if i == 7:
            tag_list = None
        wandb = {
            "project": projects[i % len(projects)],
            "name": rng.choice(names),
            "entity": rng.choice(entities),
            "tags": tag_list,
        }
        if i == 11:  # a sparse one: keys left out rather than null
            del wandb["entity"], wandb["tags"]
        settings.append(({"type": "wandb", "wandb": wandb}, 1 / (i + 1)))
    return Weighted(settings)


def make_hyperparameters(rng: random.Random) -> dict[str, Any]:
    """n_epochs, batch_size and learning_rate_multiplier: each "auto" or a number in range."""
    r = rng.random
    if r() < 0.35:
        n_epochs: int | str = "auto"
    else:
        n_epochs = rng.randint(1, 10) if r() < 0.9 else rng.randint(11, 50)
    if r() < 0.55:
        batch_size: int | str = "auto"
    else:
        batch_size = rng.choice(BATCH_SIZES) if r() < 0.85 else rng.randint(1, 256)
    if r() < 0.5:
        lr: float | int | str = "auto"
    elif r() < 0.8:
        lr = rng.choice(LR_MULTIPLIERS)
    else:
        lr = round(rng.uniform(0.01, 5.0), 2)
    return {"n_epochs": n_epochs, "batch_size": batch_size, "learning_rate_multiplier": lr}


class JobFactory:
    """Makes job i of a seeded sequence; the state is the rng and a few shared pools."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.organizations = make_organizations(self.rng)
        self.wandb = make_wandb_settings(self.rng)
        self.id_offset = self.rng.randrange(ID_SPACE)

    def job_id(self, index: int) -> str:
        mixed = (index * ID_MULTIPLIER + self.id_offset) % ID_SPACE
        return "ftjob-" + rand_str(self.rng, 16) + base62(mixed, 8)

    def error(self, status: str, created_at: int) -> dict[str, Any] | None:
        """A real error for most failed jobs; otherwise one of the API's three "no error" forms."""
        r = self.rng.random()
        if status == "failed" and r < 0.95:
            code, message, params = self.rng.choice(FAILURES)
            n = created_at % 9 + 1
            return {"code": code, "message": message.format(n=n), "param": self.rng.choice(params)}
        if r < 0.45 or r >= 0.95:
            return None
        if r < 0.65:
            return {}
        return {"code": None, "message": None, "param": None}

    def integrations(self) -> list[dict[str, Any]] | None:
        rng = self.rng
        if rng.random() < 0.02:
            return None
        count = INTEGRATION_COUNT.pick(rng)
        chosen: list[dict[str, Any]] = []
        while len(chosen) < count:
            setting = self.wandb.pick(rng)
            if setting in chosen:
                continue
            if rng.random() < 0.04:  # an unknown key inside wandb, unique to the run
                setting = {
                    "type": "wandb",
                    "wandb": {**setting["wandb"], "run_id": rand_str(rng, 8, LOWER_ALNUM_BYTES)},
                }
            chosen.append(setting)
        return chosen

    def metadata(self) -> dict[str, str] | None:
        rng = self.rng
        if rng.random() < 0.65:
            return None
        keys = rng.sample(METADATA_KEYS, rng.randint(1, 3))
        values = METADATA_VALUES
        return {
            key: f"JIRA-{rng.randint(100, 9999)}" if key == "ticket" else rng.choice(values)
            for key in keys
        }

    def make(self, index: int) -> dict[str, Any]:
        """Job number index: its era (from created_at) decides which keys it has."""
        rng = self.rng
        r = rng.random
        status = STATUS.pick(rng)
        final = status in FINAL
        # Jobs still in flight were created in the last few days.
        created_at = START + int(r() * (NOW - START)) if final else NOW - int(r() * 3 * DAY)
        org_id, org_name = self.organizations.pick(rng)

        finished_at = None
        trained_tokens = None
        if final and not (status == "failed" and r() < 0.1):
            finished_at = min(created_at + 60 + int(rng.lognormvariate(8.0, 1.0)), NOW)
            if status == "succeeded":
                trained_tokens = int(rng.lognormvariate(13.0, 1.5)) + 1_000
            else:
                trained_tokens = int(rng.lognormvariate(10.0, 2.0)) if r() < 0.6 else 0
        result_files: list[str] = []
        if final:
            for _ in range(RESULT_FILE_COUNT[status].pick(rng)):
                file_id = "file-" + rand_str(rng, 22)
                if file_id not in result_files:
                    result_files.append(file_id)
        training_file = "file-" + rand_str(rng, 22)
        validation_file = "file-" + rand_str(rng, 22) if r() < 0.35 else None
        error = self.error(status, created_at)
        job_id = self.job_id(index)

        if created_at < ERA_2024:
            model = MODELS_2023.pick(rng)
            n_epochs: int | str = "auto" if r() < 0.3 else rng.randint(1, 10)
            fine_tuned = None
            if status == "succeeded":
                fine_tuned = f"ft:{model}:{org_name}::{rand_str(rng, 8)}"
            job: dict[str, Any] = {
                "id": job_id,
                "object": "fine_tuning.job",
                "model": model,
                "created_at": created_at,
                "finished_at": finished_at,
                "fine_tuned_model": fine_tuned,
                "hyperparameters": {"n_epochs": n_epochs},
                "organization_id": org_id,
                "result_files": result_files,
                "status": status,
                "validation_file": validation_file,
                "training_file": training_file,
                "trained_tokens": trained_tokens,
                "error": error,
            }
            return job

        newest = created_at >= ERA_2025
        method_type = METHOD_2025.pick(rng) if newest else "supervised"
        if method_type == "reinforcement":
            model = REINFORCEMENT_MODEL
        else:
            model = (MODELS_2025 if newest else MODELS_2024).pick(rng)
        suffix = rng.choice(SUFFIXES) if r() < 0.4 else None
        fine_tuned = None
        if status == "succeeded":
            fine_tuned = f"ft:{model}:{org_name}:{suffix or ''}:{rand_str(rng, 8)}"
        hyperparameters: dict[str, Any] | None = make_hyperparameters(rng)
        method: dict[str, Any] | None = None
        if method_type == "supervised":
            method = {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}}
        elif method_type == "dpo":
            beta = "auto" if r() < 0.5 else round(rng.uniform(0.01, 2.0), 2)
            dpo: dict[str, Any] = {"beta": beta, **(hyperparameters or {})}
            method = {"type": "dpo", "dpo": {"hyperparameters": dpo}}
            hyperparameters = None
        else:
            rft = dict(hyperparameters or {})
            rft.update(
                reasoning_effort=rng.choice(("default", "low", "medium", "high")),
                compute_multiplier="auto",
                eval_interval="auto",
                eval_samples="auto",
            )
            method = {
                "type": "reinforcement",
                "reinforcement": {"grader": RFT_GRADER, "hyperparameters": rft},
            }
            hyperparameters = None
        seed = rng.getrandbits(31)
        estimated_finish = None
        if status == "running":
            estimated_finish = NOW + 600 + int(r() * 6 * 3600)

        if newest:
            usage_metrics = None
            if trained_tokens and r() < 0.7:
                usage_metrics = {
                    "trained_tokens": trained_tokens,
                    "billable_tokens": trained_tokens + trained_tokens // 10,
                }
            job = {
                "object": "fine_tuning.job",
                "id": job_id,
                "model": model,
                "created_at": created_at,
                "fine_tuned_model": fine_tuned,
                "organization_id": org_id,
                "result_files": result_files,
                "status": status,
                "validation_file": validation_file,
                "training_file": training_file,
                "hyperparameters": hyperparameters,
                "method": method,
                "metadata": self.metadata(),
                "error": error,
                "finished_at": finished_at,
                "seed": seed,
                "trained_tokens": trained_tokens,
                "estimated_finish": estimated_finish,
                "integrations": self.integrations(),
                "user_provided_suffix": suffix,
                "usage_metrics": usage_metrics,
                "shared_with_openai": r() < 0.1,
            }
            if r() < 0.03:
                job["eval_id"] = f"eval_{rng.getrandbits(128):032x}"
        else:
            job = {
                "object": "fine_tuning.job",
                "id": job_id,
                "model": model,
                "created_at": created_at,
                "finished_at": finished_at,
                "fine_tuned_model": fine_tuned,
                "organization_id": org_id,
                "result_files": result_files,
                "status": status,
                "validation_file": validation_file,
                "training_file": training_file,
                "hyperparameters": hyperparameters,
                "trained_tokens": trained_tokens,
                "integrations": self.integrations(),
                "seed": seed,
                "estimated_finish": estimated_finish,
            }
            if r() < 0.5:  # fetched after the API added method and metadata
                job["method"] = method
                job["metadata"] = self.metadata()
            job["error"] = error
        if r() < 0.06:  # a sparse list-style response: keys the spec requires are missing
            for key in ("error", "finished_at", "trained_tokens", "seed"):
                job.pop(key, None)
        return job


def generate(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """The first count jobs of the sequence for seed."""
    factory = JobFactory(seed)
    make = factory.make
    for index in range(count):
        yield make(index)


def write(out: TextIO, count: int, seed: int, fmt: str) -> None:
    """Write the jobs as JSON Lines, a list response or a JSON array, CHUNK jobs at a time."""
    encode = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
    head, separator, tail = {
        "jsonl": ("", "\n", "\n"),
        "list": ('{"object":"list","data":[', ",", '],"has_more":false}\n'),
        "array": ("[", ",", "]\n"),
    }[fmt]
    out.write(head)
    chunk: list[str] = []
    first = True
    for job in generate(count, seed):
        chunk.append(encode(job))
        if len(chunk) == CHUNK:
            out.write(("" if first else separator) + separator.join(chunk))
            first = False
            chunk.clear()
    if chunk:
        out.write(("" if first else separator) + separator.join(chunk))
    if fmt != "jsonl" or count:
        out.write(tail)


# -- event histories -------------------------------------------------------------------------
# Two generators of a job's history, each feeding one benchmark (so each keeps the bytes its
# results were measured on): EventFactory writes the events `import --job` reads (bench run.py
# --events), History the events, checkpoints and result files the sync benchmark's server
# serves (bench/fake_server.py).

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
        return "ftevent-" + rand_str(self.rng, 24)

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
        snapshot = rand_str(rng, 8)
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
    for job in generate(jobs, seed):
        events = factory.job_events(job, per_job)
        events.reverse()  # the API lists newest first
        yield job["id"], events


# Result files come back base64-encoded from 2024-07-01 on.
BASE64_SINCE = 1_719_792_000


def _texts(value: dict[str, Any]) -> tuple[str, str]:
    """Compact and 2-space pretty JSON of one object (same key order and number spellings)."""
    return json.dumps(value, separators=(",", ":")), json.dumps(value, indent=2)


class History:
    """A job's events, checkpoints and result files, made from its own seeded rng."""

    def __init__(self, job: dict[str, Any], seed: int, events: int, checkpoints: int) -> None:
        rng = random.Random(f"{seed}:{job['id']}")
        self.rng = rng
        job_id = job["id"]
        status = job["status"]
        created = job["created_at"]
        end = job.get("finished_at") or created + 600 + int(rng.random() * 7200)
        head = [
            f"Created fine-tuning job: {job_id}",
            f"Validating training file: {job['training_file']}",
            "Files validated, moving job to queued state",
            "Fine-tuning job started",
        ]
        tail: list[tuple[str, str]] = []  # (level, message)
        if status == "succeeded":
            tail = [
                ("info", f"New fine-tuned model created: {job['fine_tuned_model']}"),
                ("info", "The job has successfully completed"),
            ]
        elif status == "failed":
            tail = [("error", "The job failed due to an internal error")]
        elif status == "cancelled":
            tail = [("info", "The job was cancelled")]
        steps = max(events - len(head) - len(tail) - checkpoints, 1)
        self.steps = steps
        self.checkpoint_steps = [steps * (i + 1) // checkpoints for i in range(checkpoints)]
        model = job.get("fine_tuned_model") or (
            f"ft:{job['model']}:{rand_str(rng, 6).lower()}::{rand_str(rng, 8)}"
        )
        self.checkpoint_models = [
            model if (i == checkpoints - 1 and status == "succeeded") else f"{model}:ckpt-step-{s}"
            for i, s in enumerate(self.checkpoint_steps)
        ]
        losses = [3.5 * (0.97**step) + rng.random() * 0.1 for step in range(steps + 1)]
        self.losses = losses

        # Oldest first; reversed at the end (the API lists newest first).
        made: list[tuple[str, str, str]] = []  # (id, compact, pretty)
        clock = created
        span = max(end - created, events)

        def event(level: str, message: str, data: tuple[str, str] | None, kind: str) -> None:
            nonlocal clock
            clock = min(clock + int(rng.random() * 2 * span / events), end)
            event_id = "ftevent-" + rand_str(rng, 24)
            text = json.dumps(message)
            if data is None:
                data = ("null", "null") if rng.random() < 0.5 else ("{}", "{}")
            made.append((
                event_id,
                f'{{"object":"fine_tuning.job.event","id":"{event_id}","created_at":{clock},'
                f'"level":"{level}","message":{text},"data":{data[0]},"type":"{kind}"}}',
                f'{{\n  "object": "fine_tuning.job.event",\n  "id": "{event_id}",\n'
                f'  "created_at": {clock},\n  "level": "{level}",\n  "message": {text},\n'
                f'  "data": {data[1]},\n  "type": "{kind}"\n}}',
            ))  # fmt: skip

        for message in head:
            event("info", message, None, "message")
        checkpoint_at = dict(zip(self.checkpoint_steps, self.checkpoint_models, strict=True))
        for step in range(1, steps + 1):
            loss = losses[step]
            pairs = [
                ("step", str(step)),
                ("train_loss", repr(loss)),
                ("train_mean_token_accuracy", repr(min(1.0, 0.4 + step / steps / 2))),
            ]
            if step % 10 == 0 or step == steps:
                pairs.append(("valid_loss", repr(loss * 1.1)))
                pairs.append(("valid_mean_token_accuracy", repr(0.4 + step / steps / 2.2)))
            pairs.append(("total_steps", str(steps)))
            metrics = (
                "{" + ",".join(f'"{key}":{value}' for key, value in pairs) + "}",
                "{\n    " + ",\n    ".join(f'"{key}": {value}' for key, value in pairs) + "\n  }",
            )
            message = f"Step {step}/{steps}: training loss={losses[step]:.2f}"
            event("info", message, metrics, "metrics")
            if step in checkpoint_at:
                text = f"Checkpoint created at step {step} with Snapshot ID: {checkpoint_at[step]}"
                event("info", text, None, "message")
        for level, message in tail:
            event(level, message, None, "message")
        made.reverse()
        self.events = made

        self.checkpoints: list[tuple[str, str, str]] = []
        for step, checkpoint_model in zip(
            reversed(self.checkpoint_steps), reversed(self.checkpoint_models), strict=True
        ):
            checkpoint_id = "ftckpt_" + rand_str(rng, 24)
            loss = losses[step]
            value = {
                "object": "fine_tuning.job.checkpoint",
                "id": checkpoint_id,
                "created_at": min(created + step * span // steps, end),
                "fine_tuned_model_checkpoint": checkpoint_model,
                "fine_tuning_job_id": job_id,
                "metrics": {
                    "step": step,
                    "train_loss": loss,
                    "train_mean_token_accuracy": 0.8,
                    "valid_loss": loss * 1.1,
                    "valid_mean_token_accuracy": 0.75,
                },
                "step_number": step,
            }
            self.checkpoints.append((checkpoint_id, *_texts(value)))

    def result_file(self, created_at: int) -> bytes:
        """The per-step CSV; base64 for jobs from mid-2024 on, as the API sends it."""
        rows = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
        for step in range(1, self.steps + 1):
            loss = self.losses[step]
            valid = (
                f"{loss * 1.1:.5f},{0.4 + step / self.steps / 2.2:.5f}" if step % 10 == 0 else ","
            )
            rows.append(f"{step},{loss:.5f},{min(1.0, 0.4 + step / self.steps / 2):.5f},{valid}")
        csv = ("\n".join(rows) + "\n").encode()
        return base64.b64encode(csv) if created_at >= BASE64_SINCE else csv


def self_test(count: int, seed: int) -> int:
    """Validate count generated jobs (after a JSON round trip) with ftjobs' own model."""
    from pydantic import ValidationError

    from ftjobs.api.models import FineTuningJob, describe_validation_error

    encode = json.JSONEncoder(separators=(",", ":")).encode
    stats: Counter[str] = Counter()
    ids: set[str] = set()
    failures = 0
    for job in generate(count, seed):
        text = encode(job)
        try:
            FineTuningJob.model_validate(json.loads(text))
        except ValidationError as error:
            failures += 1
            if failures <= 5:
                print(f"{job['id']}: {describe_validation_error(error)}", file=sys.stderr)
        ids.add(job["id"])
        stats[f"status={job['status']}"] += 1
        stats["bytes"] += len(text) + 1
        err = job.get("error", "absent")
        form = (
            "absent"
            if err == "absent"
            else "null"
            if err is None
            else "{}"
            if err == {}
            else "all-null"
            if err.get("code") is None
            else "real"
        )
        stats[f"error={form}"] += 1
        stats["hyperparameters=null"] += "hyperparameters" in job and job["hyperparameters"] is None
        stats["2023-style"] += "seed" not in job and "integrations" not in job
        stats["sparse (no error key)"] += "error" not in job
        stats[f"method={(job.get('method') or {}).get('type')}"] += 1
        stats[f"integrations={len(job.get('integrations') or [])}"] += 1
        stats["wandb run_id"] += any(
            "run_id" in (i["wandb"] or {}) for i in job.get("integrations") or []
        )
        stats["unknown top-level keys"] += "user_provided_suffix" in job or "eval_id" in job
        stats["metadata set"] += bool(job.get("metadata"))
    for key in sorted(stats):
        value = stats[key]
        share = "" if key == "bytes" else f" ({100 * value / count:.1f}%)"
        print(f"  {key:28} {value}{share}")
    problems = []
    if failures:
        problems.append(f"{failures} jobs failed validation")
    if len(ids) != count:
        problems.append(f"{count - len(ids)} duplicate ids")
    wanted = [f"status={s}" for s in STATUS.items] + ["error=null", "error={}", "error=all-null"]
    problems += [f"no job with {key}" for key in wanted if not stats[key]]
    for problem in problems:
        print(f"self-test FAILED: {problem}", file=sys.stderr)
    if not problems:
        print(f"self-test passed: {count} jobs valid, ids unique, every status and error form")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=None, help="how many jobs (default 1000)")
    parser.add_argument("--format", choices=FORMATS, default="jsonl")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", default="-", help="file to write; - for stdout")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="validate --count (default 20000) jobs with ftjobs' model instead of writing",
    )
    args = parser.parse_args(argv)
    if args.self_test:
        return self_test(args.count or 20_000, args.seed)
    count = 1_000 if args.count is None else args.count
    if count < 0:
        parser.error("--count must be >= 0")
    started = time.perf_counter()
    if args.output == "-":
        try:
            write(sys.stdout, count, args.seed, args.format)
        except BrokenPipeError:  # `| head` stopped reading: not an error
            sys.stderr.close()
        return 0
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", buffering=1 << 20) as out:
        write(out, count, args.seed, args.format)
    seconds = time.perf_counter() - started
    print(
        f"wrote {count} jobs ({args.format}, {path.stat().st_size / 2**20:.1f} MiB) to {path}"
        f" in {seconds:.2f} s ({count / seconds:,.0f} jobs/s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
