"""The version floors pyproject.toml states are the ones CI tests (.ci/floors.txt)."""

from __future__ import annotations

import sys

from packaging.requirements import Requirement  # pytest's own dependency
from packaging.utils import canonicalize_name
from packaging.version import Version
from support.helpers import REPO_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # pytest's own dependency before 3.11

FLOORS = REPO_ROOT / ".ci" / "floors.txt"


def stated_floors() -> dict[str, str]:
    """Each runtime dependency's `>=` version, from pyproject.toml."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    floors = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        floor = [spec.version for spec in requirement.specifier if spec.operator == ">="]
        assert len(floor) == 1, f"{line!r} in pyproject.toml needs one >= floor"
        floors[canonicalize_name(requirement.name)] = floor[0]
    return floors


def pinned_floors() -> dict[str, str]:
    """Each `name==version` line of .ci/floors.txt."""
    pins = {}
    for raw in FLOORS.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, separator, version = line.partition("==")
        assert separator and version.strip(), f"not a name==version pin: {raw!r}"
        pins[canonicalize_name(name.strip())] = version.strip()
    return pins


def test_every_dependency_has_its_floor_pinned_for_ci() -> None:
    stated, pinned = stated_floors(), pinned_floors()
    assert stated, "pyproject.toml lists no dependencies"
    for name, floor in stated.items():
        assert name in pinned, f"{name} has no pin in .ci/floors.txt"
        assert Version(floor) == Version(pinned[name]), (  # 0.19 is 0.19.0
            f"pyproject.toml says {name}>={floor}, but .ci/floors.txt pins {pinned[name]}"
        )


def test_floors_file_pins_only_dependencies_and_what_the_tests_need() -> None:
    # click is no dependency of ftjobs (typer brings it); it is pinned for the tests' CliRunner.
    extra = set(pinned_floors()) - set(stated_floors())
    assert extra <= {"click"}, f".ci/floors.txt pins what pyproject.toml does not name: {extra}"
