"""Every `ftjobs ...` example in README.md runs as written, in order, against a store of its
own: the tour, sync's several sources, backup, and the set-up line.

Each example runs in bash (pipes, `jq`, redirects and comments as a reader's shell has them,
with pipefail) with the installed `ftjobs` first on PATH, HOME and the working directory in a
temporary folder, and FTJOBS_DB pointing at the store there. What an example needs is there
first: the API is tests/support/fake_api.py, holding the jobs the README names (ftjob-abc123 from
tests/fixtures/examples/list_response.json, ftjob-def456) with a history from
tests/support/historydata.py, and keys the README's `sk-...`, `sk-proj-AAA...`,
`sk-proj-BBB...`; the
files an example reads (pages/*.json, dump.jsonl.gz, new.jsonl, checkpoints.json, results.csv)
are made from the same fixtures. The one rewriting: the API's host (`https://api.openai.com/v1`
in the curl lines, `https://NAME.openai.azure.com`) becomes the fake server's.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import historydata
from support.fake_api import FakeFineTuningApi
from support.helpers import EXAMPLES, REPO_ROOT
from support.jobdata import make_job

README = REPO_ROOT / "README.md"
HISTORY_JOB = "ftjob-abc123"
# Lines of the README's shell blocks that are not ftjobs examples: installing, the test suite,
# the linters.
NOT_EXAMPLES = re.compile(r"^(python3 -m venv|\.venv/bin/(ruff|python)|bash \.ci/run)")
# Examples whose exit status is not 0, as the README says.
EXPECTED_EXIT: dict[str, int] = {}


def readme_examples() -> list[str]:
    """The commands of README.md's sh code blocks, in order, continuation lines joined; the
    set-up line's `.venv/bin/ftjobs` parts as the ftjobs on PATH."""
    text = README.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"^ *```sh\n(.*?)^ *```", text, flags=re.DOTALL | re.MULTILINE):
        joined = re.sub(r"\\\n\s*", " ", block)
        for raw in joined.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("python3 -m venv") and ".venv/bin/ftjobs" in line:
                # The set-up line: install (done), then its ftjobs commands.
                parts = [p.strip() for p in line.split("&&") if ".venv/bin/ftjobs" in p]
                commands += [p.replace(".venv/bin/ftjobs", "ftjobs") for p in parts]
                continue
            if NOT_EXAMPLES.match(line):
                continue
            assert "ftjobs" in line or line.startswith("export "), line
            commands.append(line)
    return commands


def _fake_api() -> FakeFineTuningApi:
    fake = FakeFineTuningApi(api_key="sk-...")
    fake.add_project_key("sk-proj-AAA...", "proj_a")
    fake.add_project_key("sk-proj-BBB...", "proj_b")
    listed = json.loads((EXAMPLES / "list_response.json").read_text())["data"][0]
    fake.add_job(json.dumps(listed))  # ftjob-abc123, queued
    fake.add_job(json.dumps(make_job(2, id="ftjob-def456", status="queued", result_files=[])))
    fake.add_job(json.dumps(make_job(3, id="ftjob-" + "a" * 24, result_files=[])), project="proj_a")
    fake.add_job(json.dumps(make_job(4, id="ftjob-" + "b" * 24, result_files=[])), project="proj_b")
    fake.add_events(HISTORY_JOB, [_ours(t) for t in reversed(historydata.event_texts())])
    fake.add_checkpoints(HISTORY_JOB, [_ours(t) for t in reversed(historydata.checkpoint_texts())])
    return fake


def _finish_history_job(fake: FakeFineTuningApi) -> None:
    job = json.loads((EXAMPLES / "list_response.json").read_text())["data"][0]
    job.update(status="succeeded", finished_at=job["created_at"] + 3600)
    fake.add_job(json.dumps(job))


def _ours(text: str) -> str:
    return text.replace(historydata.JOB_ID, HISTORY_JOB)


def _prepare_files(folder: Path) -> None:
    """The files the examples read, in the working directory as the README names them."""
    (folder / "pages").mkdir()
    shutil.copy(EXAMPLES / "list_response.json", folder / "pages" / "1.json")
    shutil.copy(EXAMPLES / "job_failed_with_error.json", folder / "pages" / "2.json")
    with gzip.open(folder / "dump.jsonl.gz", "wt") as dump:
        dump.writelines(json.dumps(make_job(n)) + "\n" for n in range(10, 15))
    (folder / "new.jsonl").write_text("".join(json.dumps(make_job(n)) + "\n" for n in (20, 21)))
    checkpoints = [json.loads(_ours(t)) for t in historydata.checkpoint_texts()]
    (folder / "checkpoints.json").write_text(json.dumps({"object": "list", "data": checkpoints}))
    (folder / "results.csv").write_text(historydata.result_csv())
    shutil.copytree(EXAMPLES, folder / "tests" / "fixtures" / "examples")
    (folder / "home").mkdir()


@pytest.fixture
def fakes() -> Iterator[tuple[FakeFineTuningApi, FakeFineTuningApi]]:
    with (
        _fake_api() as fake,
        FakeFineTuningApi(azure=True, api_key="...", api_version="2024-10-21") as azure,
    ):
        azure.add_job(json.dumps(make_job(5, id="ftjob-" + "c" * 24, result_files=[])))
        yield fake, azure


def test_the_readme_has_the_examples_this_test_runs() -> None:
    examples = readme_examples()
    assert len(examples) > 50
    assert any("--finished-at 2024-07-24" in line for line in examples)
    assert any(line.startswith("ftjobs --db demo.db import") for line in examples)


def test_every_readme_example_runs_as_written(
    tmp_path: Path, fakes: tuple[FakeFineTuningApi, FakeFineTuningApi]
) -> None:
    fake, azure = fakes
    _prepare_files(tmp_path)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FTJOBS_", "OPENAI_", "AZURE_")) and key not in ("NO_COLOR",)
    }
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(tmp_path / "home"),
        FTJOBS_DB=str(tmp_path / "jobs.db"),
        OPENAI_BASE_URL=fake.base_url,
        SHELL="/bin/bash",
    )
    exports: list[str] = []
    failures = []
    for example in readme_examples():
        line = example.replace("https://api.openai.com/v1", fake.base_url)
        line = line.replace("https://NAME.openai.azure.com", azure.url)
        if line.startswith("export "):
            exports.append(line)
            continue
        script = "\n".join(["set -o pipefail", *exports, line])
        finish = None
        if "--follow --remote" in line:  # the job ends while it is followed (else: for ever)
            finish = threading.Timer(1.0, _finish_history_job, [fake])
            finish.start()
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if finish is not None:
            finish.cancel()
        expected = EXPECTED_EXIT.get(example, 0)
        if result.returncode != expected or "Traceback" in result.stderr:
            failures.append(f"{example}\n  exit {result.returncode}: {result.stderr.strip()}")
    assert not failures, "\n".join(failures)
