"""The built wheel carries schema.sql and works away from the source checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.helpers import REPO_ROOT

pytest.importorskip("hatchling")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("ftjobs-*.whl")
    return built


def test_wheel_ships_the_repo_schema(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("ftjobs/schema.sql")
    assert packaged == (REPO_ROOT / "schema.sql").read_bytes()


def test_installed_wheel_works_outside_the_repo(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)  # what pip does with a pure-Python wheel
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "FTJOBS_DB": str(elsewhere / "j.db")}

    def ftjobs(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "ftjobs", *args],
            cwd=elsewhere,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    where = subprocess.run(
        [sys.executable, "-c", "import ftjobs; print(ftjobs.__file__)"],
        cwd=elsewhere, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert Path(where.strip()).is_relative_to(site)
    job_id = ftjobs("add", "--model", "gpt-4o-mini", "--training-file", "file-1").strip()
    assert json.loads(ftjobs("show", job_id, "--json"))["id"] == job_id
