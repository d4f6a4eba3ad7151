"""Shared fixtures: the real nixpkgs snapshots in ../shared, the embedded snapshot, and real Nix."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from impact.loaders import EMBEDDED_SNAPSHOT, load_snapshot
from impact.model import DerivationGraph

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("IMPACT_SHARED", REPO.parent / "shared"))
DATA = SHARED / "data"
CASES = SHARED / "cases"
MASTER = DATA / "nixpkgs-master-2016-06-24"
STAGING = DATA / "nixpkgs-staging-2016-06-20"
RELEASE = DATA / "nixpkgs-release-16.03-2016-06-23"


def require_shared(path: Path) -> Path:
    """`path` inside ../shared; skips when absent, fails instead when IMPACT_REQUIRE_SHARED is set (CI)."""
    if not path.exists():
        if os.environ.get("IMPACT_REQUIRE_SHARED"):
            pytest.fail(f"{path} is missing and IMPACT_REQUIRE_SHARED is set")
        pytest.skip(f"{path} is missing")
    return path


def require_nix() -> str:
    """The path of nix-instantiate; skips when absent, fails instead when IMPACT_REQUIRE_NIX is set (CI)."""
    found = shutil.which("nix-instantiate")
    if not found:
        if os.environ.get("IMPACT_REQUIRE_NIX"):
            pytest.fail("nix-instantiate is not installed and IMPACT_REQUIRE_NIX is set")
        pytest.skip("nix-instantiate is not installed")
    return found


@pytest.fixture(scope="session")
def master_graph() -> DerivationGraph:
    """The shared master snapshot, loaded from its show-derivation JSON and nix-eval-jobs lines."""
    return load_snapshot(require_shared(MASTER))


#: The shipped snapshot of the 2016 master evaluation, the one ../shared/cases measured edits of.
MASTER_2016 = "master-2016-06-24"


@pytest.fixture(scope="session")
def embedded_graph() -> DerivationGraph:
    """The shipped compact snapshot of master 2016-06-24 (../shared/cases are edits of it)."""
    return load_snapshot(MASTER_2016)


@pytest.fixture(scope="session")
def default_graph() -> DerivationGraph:
    """The default shipped snapshot (master 2019-03-19)."""
    return load_snapshot(EMBEDDED_SNAPSHOT)
