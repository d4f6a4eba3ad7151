"""Shared fixtures: the real nixpkgs snapshots in ../shared, the embedded snapshot, and real Nix."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from impact.loaders import EMBEDDED_SNAPSHOT, load_snapshot
from impact.model import DerivationGraph

#: The user's cache settings as they were before the suite started (the cache the suite must leave untouched).
USER_CACHE_ENV = {k: os.environ.get(k) for k in ("IMPACT_CACHE_DIR", "XDG_CACHE_HOME", "HOME")}
#: The suite's own cache, for the whole session and every process it starts: the version-2 copies of the
#: shipped snapshots and the default Nix store of `impact eval` go there, never into the user's
#: ~/.cache/impact. $IMPACT_TEST_CACHE_DIR names a folder to keep between runs (faster); else it is a new
#: temporary folder, removed at the end. (impact reads these variables when it looks for its cache, so
#: setting them here, before any test runs, is enough.)
TEST_CACHE = Path(os.environ.get("IMPACT_TEST_CACHE_DIR") or tempfile.mkdtemp(prefix="impact-test-cache-"))
os.environ["IMPACT_CACHE_DIR"] = str(TEST_CACHE / "impact")
os.environ["XDG_CACHE_HOME"] = str(TEST_CACHE)

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


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[..., Any]], Any]]:
    """Start fake GitHubs on loopback (tests/fake_github.py); each gets its own port (so its own origin)."""
    from tests.fake_github import start

    servers: list[ThreadingHTTPServer] = []
    yield lambda route: start(route, servers)
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """End every run with one line saying how many tests skipped and why (or that none did), so nothing skips
    silently: a missing ../shared or Nix shows here, and fails instead under IMPACT_REQUIRE_SHARED/_NIX."""
    skipped = terminalreporter.stats.get("skipped", [])
    reasons: dict[str, int] = {}
    for report in skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if not reasons:
        terminalreporter.write_line("impact: no test skipped")
        return
    listed = "; ".join(f"{n} × {why}" for why, n in sorted(reasons.items(), key=lambda item: -item[1]))
    terminalreporter.write_line(f"impact: {len(skipped)} tests skipped: {listed}", yellow=True)


def _remove_tree(path: Path) -> None:
    """Remove `path`, a Nix store under it included (its files and folders are read-only)."""
    for folder, dirs, _files in os.walk(path):
        for name in dirs:
            child = os.path.join(folder, name)
            if not os.path.islink(child):
                os.chmod(child, stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the suite's temporary cache (not one named by $IMPACT_TEST_CACHE_DIR)."""
    if not os.environ.get("IMPACT_TEST_CACHE_DIR") and TEST_CACHE.exists():
        os.chmod(TEST_CACHE, stat.S_IRWXU)
        _remove_tree(TEST_CACHE)
