#!/usr/bin/env python3
"""A fine-tuning API for the sync benchmark: tests/support/fake_api.FakeFineTuningApi in its own
process, filled with N generated jobs (tests/support/generate.py's mix), each with its events,
checkpoints and result files (generate.History), all deterministic (seeded).

It prints one JSON line on stdout once it is ready (``{"port": ..., "jobs": ..., ...}``) and
serves until stdin closes or it is terminated (with ``--stay``, until it is killed). Standard
library only (ftjobs is not imported).

    python -m bench fake-server --jobs 10000 --events 50 --checkpoints 2
    python -m bench fake-server --jobs 100 --events 250 --checkpoints 3 --result-files 1 \
        --latency-ms 100 --max-in-flight 8          # issue 15's slow-API case
    python -m bench fake-server --jobs 1000 --stay &     # in the background; kill %1 ends it
    python -m bench fake-server --jobs 300 --self-check   # bodies == tests/support/fake_api's, exit

Why a subclass: FakeFineTuningApi builds every body per request (it re-parses the item ids and
pretty-prints the page character by character in Python, 0.1 ms per event here). That is
fine for tests but would put several milliseconds of server CPU behind each request, on a
machine with two cores that the client needs too. Here the bodies the clients ask for (every
page at the page cap, each job's events and checkpoints, each job by id) are built once at
start-up, byte for byte what FakeFineTuningApi sends (``--self-check`` compares them): every
page at the page cap, each job's events and checkpoints (every page of them at the cap), each
job by id, and the file object (``GET /files/{id}``) of every training and validation file and
the model (``GET /models/{id}``) of every fine-tuned model the jobs name, some of them deleted
(404, as the fake words it). Any other query (another limit, an ``after`` that is no page
boundary) goes to FakeFineTuningApi's own code, so the server still behaves like the fake.

The API's latency, and its limits:

- ``--latency-ms N``: every answer waits N ms (a sleep that holds no lock: requests on several
  connections overlap, as against a real API; ThreadingHTTPServer gives each connection its own
  thread).
- ``--max-in-flight N``: a request that arrives while N others are being answered gets 429
  (``rate_limit_exceeded``, after the same latency) with ``retry-after-ms``,
  ``x-ratelimit-limit-requests: N``, ``x-ratelimit-remaining-requests: 0`` and
  ``x-ratelimit-reset-requests`` (``--retry-after-ms``, default the latency, at least 10 ms).
  429s are counted (by kind), and so is the peak number of requests in flight (refused ones
  included: what the client had in flight).

Extra endpoints, for the benchmark only, not authenticated, not delayed and not counted:
``GET /__stats`` (requests received since the last reset, by kind, the 429s among them, the
peak in flight, and the server's CPU seconds so far) and ``GET /__reset`` (the same, then
starts counting again from zero).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import signal
import sys
import threading
import time
from collections import Counter
from http.server import ThreadingHTTPServer
from typing import Any

from tests.support import generate
from tests.support.fake_api import DEFAULT_KEY, FakeFineTuningApi, _error_body
from tests.support.generate import History, _texts

# socketserver's listen backlog is 5: a client opening 8 connections at once could see a SYN
# dropped and wait a second for the retransmission. This process is the server alone.
ThreadingHTTPServer.request_queue_size = 128

# The real API's list endpoints default to 20 items (checkpoints 10) and document no maximum;
# ftjobs sync asks for 100. The cap is 100, so a page holds what sync asks for: 100 jobs a page,
# and 50 events or 2 checkpoints in one page each.
PAGE_CAP = 100
FINAL = frozenset({"succeeded", "failed", "cancelled"})
KINDS = (
    "jobs list", "job", "events", "checkpoints", "file content", "file object", "model", "other",
)  # fmt: skip
# Deleted since the job ran (GET answers 404): a user's cleanup of old data sets and models.
DELETED_FILES = 0.05
DELETED_MODELS = 0.15
FILE_STEMS = ("support", "chat", "classify", "extract", "summaries", "tickets", "sql", "tone")

_INDENT_ITEM = "\n    "  # an item of "data" sits two levels deep in the envelope


def _list_body(
    pretty_items: list[str], has_more: bool, ends: tuple[str | None, str | None] | None
) -> bytes:
    """What FakeFineTuningApi._page sends for these items (their 2-space pretty-printed texts):
    the envelope, pretty-printed the same way."""
    if pretty_items:
        data = (
            "["
            + _INDENT_ITEM
            + ("," + _INDENT_ITEM).join(item.replace("\n", _INDENT_ITEM) for item in pretty_items)
            + "\n  ]"
        )
    else:
        data = "[]"
    parts = ['{\n  "object": "list",\n  "data": ', data]
    if ends is not None:
        first, last = (json.dumps(end) for end in ends)
        parts.append(f',\n  "first_id": {first},\n  "last_id": {last}')
    parts.append(f',\n  "has_more": {"true" if has_more else "false"}\n}}\n')
    return "".join(parts).encode()


class BenchApi(FakeFineTuningApi):
    """FakeFineTuningApi with the bodies the benchmark's clients ask for built in advance, and
    /__stats and /__reset."""

    def __init__(
        self,
        *,
        latency_ms: float = 0.0,
        max_in_flight: int = 0,
        retry_after_ms: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._bodies: dict[tuple[str, ...], bytes] = {}
        # GET /files/{id} and /models/{id}: (status, headers, body), 404s included.
        self._objects: dict[tuple[str, str], tuple[int, dict[str, str], bytes]] = {}
        self.stats_lock = threading.Lock()
        self.latency = latency_ms / 1000
        self.max_in_flight = max_in_flight
        self.retry_after_ms = (
            retry_after_ms if retry_after_ms is not None else max(round(latency_ms), 10)
        )
        self.in_flight = 0  # requests being answered, 429s included
        self.admitted = 0  # of those, the ones not refused
        self.peak_in_flight = 0
        self.refused: Counter[str] = Counter()  # 429s sent, by kind

    def fill(
        self,
        count: int,
        seed: int,
        events: int,
        checkpoints: int,
        result_files: int | None = None,
    ) -> dict[str, Any]:
        """Generate and store the jobs, their history, and the file objects and models they
        name; returns what was made, with the requests a first and an unchanged second sync
        make, by kind. result_files: that many result files for every job (None: generate.py's
        mix, 0-3 for finished jobs)."""
        made: dict[str, Any] = {
            "jobs": 0, "unfinished": 0, "events": 0, "checkpoints": 0, "files": 0,
            "file_objects": 0, "file_objects_deleted": 0, "models": 0, "models_deleted": 0,
        }  # fmt: skip
        history_pages = {"events": 0, "checkpoints": 0}
        pretty_jobs: dict[str, str] = {}
        unfinished: set[str] = set()
        for job in generate.generate(count, seed):
            if result_files is not None:
                rng = random.Random(f"{seed}:{job['id']}:result_files")
                job["result_files"] = [
                    "file-" + generate.rand_str(rng, 22) for _ in range(result_files)
                ]
            compact, pretty = _texts(job)
            job_id = self.add_job(compact)
            pretty_jobs[job_id] = pretty
            history = History(job, seed, events, checkpoints)
            self.add_events(job_id, [compact for _, compact, _ in history.events])
            self.add_checkpoints(job_id, [compact for _, compact, _ in history.checkpoints])
            for file_id in job["result_files"]:
                self.files[file_id] = history.result_file(job["created_at"])
            self._bodies[("job", job_id)] = pretty.encode() + b"\n"
            history_pages["events"] += self._prepare_history("events", job_id, history.events)
            history_pages["checkpoints"] += self._prepare_history(
                "checkpoints", job_id, history.checkpoints, ends=True
            )
            for role in ("training_file", "validation_file"):
                file_id = job.get(role)
                if file_id and ("files", file_id) not in self._objects:
                    found = self._prepare_file(file_id, role, job, seed)
                    made["file_objects"] += 1
                    made["file_objects_deleted"] += not found
            model_id = job.get("fine_tuned_model")
            if model_id and ("models", model_id) not in self._objects:
                found = self._prepare_model(model_id, job, seed)
                made["models"] += 1
                made["models_deleted"] += not found
            made["jobs"] += 1
            if job["status"] not in FINAL:
                unfinished.add(job_id)
                made["unfinished"] += 1
            made["events"] += len(history.events)
            made["checkpoints"] += len(history.checkpoints)
            made["files"] += len(job["result_files"])
        # The job list at the page cap, page after page, as a walk down it asks for it.
        ordered = sorted(self._jobs.values(), key=lambda j: (-j.created_at, -j.order))
        made["list_pages"] = 0
        # An unchanged second sync asks for the first page, the events and checkpoints of the
        # unfinished jobs on it, and each other unfinished job by id, with its events and
        # checkpoints.
        on_first = sum(j.id in unfinished for j in ordered[: self.page_cap])
        made["second_sync_requests"] = 1 + 2 * on_first + 3 * (len(unfinished) - on_first)
        after = ""
        for start in range(0, max(len(ordered), 1), self.page_cap):
            chunk = ordered[start : start + self.page_cap]
            has_more = start + self.page_cap < len(ordered)
            body = _list_body([pretty_jobs[j.id] for j in chunk], has_more, None)
            self._bodies[("jobs", after, str(self.page_cap))] = body
            after = chunk[-1].id if chunk else ""
            made["list_pages"] += 1
        kinds = dict.fromkeys(KINDS, 0)
        # A first sync into an empty store: the whole list; every job's events and checkpoints,
        # every page; each result file; each distinct training and validation file's object;
        # each distinct fine-tuned model.
        made["first_sync_by_kind"] = kinds | {
            "jobs list": made["list_pages"],
            "events": history_pages["events"],
            "checkpoints": history_pages["checkpoints"],
            "file content": made["files"],
            "file object": made["file_objects"],
            "model": made["models"],
        }
        made["first_sync_requests"] = sum(made["first_sync_by_kind"].values())
        # An unchanged second sync: no file object is asked again (a 404 is stored too) and no
        # model within a day; an unfinished job's events and checkpoints stop at the first
        # page (its newest item is stored).
        made["second_sync_by_kind"] = kinds | {
            "jobs list": 1,
            "job": len(unfinished) - on_first,
            "events": len(unfinished),
            "checkpoints": len(unfinished),
        }
        return made

    def _prepare_history(
        self, kind: str, job_id: str, items: list[tuple[str, str, str]], *, ends: bool = False
    ) -> int:
        """Every page of a job's events or checkpoints at the page cap, keyed by the cursor
        that asks for it (the first by ""); returns how many pages a walk down them asks for."""
        after = ""
        pages = 0
        for start in range(0, max(len(items), 1), self.page_cap):
            chunk = items[start : start + self.page_cap]
            ids = [item_id for item_id, _, _ in chunk]
            self._bodies[(kind, job_id, after)] = _list_body(
                [pretty for _, _, pretty in chunk],
                start + self.page_cap < len(items),
                (ids[0] if ids else None, ids[-1] if ids else None) if ends else None,
            )
            after = ids[-1] if ids else after
            pages += 1
        return pages

    def _prepare_file(self, file_id: str, role: str, job: dict[str, Any], seed: int) -> bool:
        """The file object of a job's training or validation file, or (DELETED_FILES of them)
        none; its answer is prepared by the fake's own code. Returns whether it exists."""
        rng = random.Random(f"{seed}:{file_id}")
        found = rng.random() >= DELETED_FILES
        if found:
            created = job["created_at"] - 60 - int(rng.random() * 14 * generate.DAY)
            month = time.strftime("%Y-%m", time.gmtime(created))
            part = "train" if role == "training_file" else "valid"
            value = {
                "object": "file",
                "id": file_id,
                "purpose": "fine-tune",
                "filename": f"{rng.choice(FILE_STEMS)}-{part}-{month}.jsonl",
                "bytes": int(rng.lognormvariate(14.0, 1.5)) + 200,
                "created_at": created,
                "expires_at": None,
                "status": "processed",
                "status_details": None,
            }
            self.files_meta[file_id] = _texts(value)[0]
        self._objects[("files", file_id)] = self._object("files", file_id)
        return found

    def _prepare_model(self, model_id: str, job: dict[str, Any], seed: int) -> bool:
        """A job's fine-tuned model, or (DELETED_MODELS of them) a 404; as _prepare_file."""
        rng = random.Random(f"{seed}:{model_id}")
        found = rng.random() >= DELETED_MODELS
        if found:
            value = {
                "id": model_id,
                "object": "model",
                "created": job.get("finished_at") or job["created_at"],
                "owned_by": job.get("organization_id") or "system",
            }
            self.models[model_id] = _texts(value)[0]
        self._objects[("models", model_id)] = self._object("models", model_id)
        return found

    # ---- serving -----------------------------------------------------------------------------
    def _respond(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        if path in ("/__stats", "/__reset"):
            return 200, {}, json.dumps(self.stats(reset=path == "/__reset")).encode()
        with self.stats_lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            refused = 0 < self.max_in_flight <= self.admitted
            if refused:
                self.refused[_kind(path)] += 1
            else:
                self.admitted += 1
        try:
            if self.latency:
                time.sleep(self.latency)  # no lock held: concurrent requests overlap
            if refused:
                return self._too_many()
            return super()._respond(method, path, query, headers)
        finally:
            with self.stats_lock:
                self.in_flight -= 1
                if not refused:
                    self.admitted -= 1

    def _too_many(self) -> tuple[int, dict[str, str], bytes]:
        """429 as OpenAI sends it, with its rate-limit headers: at most max_in_flight
        requests at a time."""
        limit, wait = self.max_in_flight, self.retry_after_ms
        message = (
            f"Rate limit reached for requests: Limit {limit} in flight, Used {limit},"
            f" Requested 1. Please try again in {wait}ms."
        )
        headers = {
            "retry-after-ms": str(wait),
            "x-ratelimit-limit-requests": str(limit),
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": f"{wait}ms",
        }
        return 429, headers, _error_body(message, "requests", "rate_limit_exceeded")

    def _route(
        self, parts: list[str], query: dict[str, str], project: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        body = None
        if len(parts) == 2 and parts[0] in ("files", "models"):
            answer = self._objects.get((parts[0], parts[1]))
            if answer is not None:
                return answer
        # Every job is in no project here, and the one key sees them all: the prepared bodies
        # are what that key gets.
        if parts[:2] == ["fine_tuning", "jobs"] and project is None:
            limit = min(int(query.get("limit", 20)), self.page_cap)
            if len(parts) == 2:
                body = self._bodies.get(("jobs", query.get("after", ""), str(limit)))
            elif len(parts) == 3:
                body = self._bodies.get(("job", parts[2]))
            elif len(parts) == 4 and parts[3] in ("events", "checkpoints"):
                job = self._jobs.get(parts[2])
                if job is not None:
                    held = job.events if parts[3] == "events" else job.checkpoints
                    default = 20 if parts[3] == "events" else 10
                    limit = min(int(query.get("limit", default)), self.page_cap)
                    after = query.get("after", "")
                    # The pages at the cap; or, from the top, all of a history that fits.
                    if limit == self.page_cap or (not after and len(held) <= limit):
                        body = self._bodies.get((parts[3], parts[2], after))
        if body is not None:
            return 200, {"content-type": "application/json"}, body
        return super()._route(parts, query, project)

    def stats(self, *, reset: bool) -> dict[str, Any]:
        with self.stats_lock:
            logged = [r for r in self.requests if not r.path.startswith("/__")]
            refused = dict.fromkeys(KINDS, 0) | dict(self.refused)
            peak = self.peak_in_flight
            if reset:
                self.requests.clear()
                self.refused.clear()
                self.peak_in_flight = self.in_flight
        kinds = dict.fromkeys(KINDS, 0)
        for request in logged:
            kinds[_kind(request.path)] += 1
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "requests": len(logged),  # every request received, 429s included
            "by_kind": kinds,
            "rate_limited": sum(refused.values()),  # the 429s sent
            "rate_limited_by_kind": refused,
            "peak_in_flight": peak,
            "cpu_seconds": usage.ru_utime + usage.ru_stime,  # the server's, since it started
        }


def _kind(path: str) -> str:
    parts = path.strip("/").split("/")
    if parts[:3] == ["v1", "fine_tuning", "jobs"]:
        if len(parts) == 3:
            return "jobs list"
        if len(parts) == 4:
            return "job"
        if len(parts) == 5 and parts[4] in ("events", "checkpoints"):
            return parts[4]
    if parts[:2] == ["v1", "files"] and len(parts) == 4 and parts[3] == "content":
        return "file content"
    if parts[:2] == ["v1", "files"] and len(parts) == 3:
        return "file object"
    if parts[:2] == ["v1", "models"] and len(parts) == 3:
        return "model"
    return "other"


def self_check(api: BenchApi) -> list[str]:
    """Every prepared body equals what FakeFineTuningApi's own code sends for that request."""
    problems = []
    base = FakeFineTuningApi._route

    def compare(parts: list[str], query: dict[str, str]) -> None:
        ours = api._route(parts, query)
        theirs = base(api, parts, query)
        if ours != theirs:
            problems.append(f"/{'/'.join(parts)}?{query}: differs from the fake API's body")

    for key in list(api._bodies):
        if key[0] == "jobs":
            query = {"limit": key[2]} | ({"after": key[1]} if key[1] else {})
            compare(["fine_tuning", "jobs"], query)
        elif key[0] == "job":
            compare(["fine_tuning", "jobs", key[1]], {})
        else:
            kind, job_id, after = key
            query = {"limit": str(api.page_cap)} | ({"after": after} if after else {})
            compare(["fine_tuning", "jobs", job_id, kind], query)
            if not after:
                compare(["fine_tuning", "jobs", job_id, kind], {})
    for kind, object_id in list(api._objects):
        compare([kind, object_id], {})
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=50, help="events a job (default 50)")
    parser.add_argument("--checkpoints", type=int, default=2, help="checkpoints a job")
    parser.add_argument(
        "--result-files",
        type=int,
        default=None,
        help="result files of every job (default: generate.py's mix, 0-3 for finished jobs)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="every answer waits this long (default 0)"
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=0,
        help="429 for a request that comes while N others are being answered (0: no limit)",
    )
    parser.add_argument(
        "--retry-after-ms",
        type=int,
        default=None,
        help="retry-after-ms of a 429 (default: the latency, at least 10)",
    )
    parser.add_argument("--page-cap", type=int, default=PAGE_CAP)
    parser.add_argument("--key", default=DEFAULT_KEY, help="the API key clients must send")
    parser.add_argument(
        "--stay", action="store_true", help="serve until killed, not until stdin closes"
    )
    parser.add_argument(
        "--self-check",
        action="store_true",
        help="compare every prepared body with tests/support/fake_api's own, then exit (1: differ)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    api = BenchApi(
        api_key=args.key,
        page_cap=args.page_cap,
        latency_ms=args.latency_ms,
        max_in_flight=args.max_in_flight,
        retry_after_ms=args.retry_after_ms,
    )
    made = api.fill(args.jobs, args.seed, args.events, args.checkpoints, args.result_files)
    made |= {
        "latency_ms": args.latency_ms,
        "max_in_flight": args.max_in_flight,
        "retry_after_ms": api.retry_after_ms,
        "page_cap": api.page_cap,
    }
    made["bytes"] = (
        sum(len(body) for body in api._bodies.values())
        + sum(len(content) for content in api.files.values())
        + sum(len(body) for _, _, body in api._objects.values())
    )
    made["setup_seconds"] = round(time.perf_counter() - started, 2)
    if args.self_check:
        problems = self_check(api)
        for problem in problems[:20]:
            print(problem, file=sys.stderr)
        bodies = len(api._bodies) + len(api._objects)
        print(f"self-check: {bodies} bodies, {len(problems)} differ", file=sys.stderr)
        return 1 if problems else 0
    with api:
        print(json.dumps({"port": api.port, "key": api.api_key, **made}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            if args.stay:
                signal.pause()  # until Ctrl-C or a signal that ends the process
            else:
                sys.stdin.read()  # until the parent closes our stdin (or terminates us)
    return 0


if __name__ == "__main__":
    sys.exit(main())
