"""Real Nix as ground truth for the farm model: Nix building with `--max-jobs M` is one machine with M slots.

The fixture (fixtures_cost/dag.nix) is four derivations that only sleep: a→c→d and b→d, 2+2+1 s on the chain.
impact's simulation on the graph Nix itself shows (`nix show-derivation -r`), with the sleeps as durations,
must match the wall-clock time Nix takes to build it, within Nix's own overhead per build:
- one slot builds one at a time: 2+2+2+1 = 7 s;
- two slots: a and b together (0–2 s), c (2–4 s), d (4–5 s) = 5 s, the critical path a→c→d.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest

from impact.analysis.cost import Farm, critical_path, simulate, subgraph
from impact.loaders.durations import parse_durations
from impact.loaders.show_derivation import parse_derivations
from impact.model import DerivationGraph
from impact.nix import Nix, isolated_nix
from tests.conftest import require_nix

pytestmark = pytest.mark.nix

FIXTURE = Path(__file__).parent / "fixtures_cost" / "dag.nix"
SLEEPS = {"a": 2.0, "b": 2.0, "c": 2.0, "d": 1.0}
#: Nix's set-up and registration per build on top of the sleep, generously (about 0.1 s measured).
OVERHEAD = 0.6


def sandbox_paths() -> str:
    """What the chroot store's sandbox needs: /bin/sh, /bin/sleep and their libraries."""
    sh = "/bin/sh=/bin/dash" if os.path.exists("/bin/dash") else "/bin/sh"
    sleep = shutil.which("sleep") or "/bin/sleep"
    return " ".join([sh, f"/bin/sleep={sleep}", *(p for p in ("/lib", "/lib64", "/usr/lib") if os.path.exists(p))])


def fixture_nix(root: Path) -> Nix:
    base = isolated_nix(root)
    config = "\n".join(["substituters =", f"sandbox-paths = {sandbox_paths()}"])
    return Nix(store=base.store, env={**base.env, "NIX_CONFIG": config}, runner=base.runner, store_root=base.store_root)


def build(nix: Nix, max_jobs: int) -> tuple[float, str, str]:
    """Build a fresh copy of the fixture; (wall-clock seconds, drv path of d, `nix build --json` output)."""
    salt = uuid.uuid4().hex
    drv = nix.run("nix-instantiate", str(FIXTURE), "--argstr", "salt", salt).strip()
    started = time.monotonic()
    out = nix.run(
        "nix",
        "build",
        f"{drv}^*" if nix.version >= (2, 13) else drv,
        "--json",
        "--no-link",
        "--max-jobs",
        str(max_jobs),
    )
    return time.monotonic() - started, drv, out


def test_farm_model_matches_nix_scheduling(tmp_path: Path) -> None:
    require_nix()
    nix = fixture_nix(tmp_path / "store")
    for slots, expected in ((1, 7.0), (2, 5.0)):
        measured, drv, out = build(nix, slots)
        graph = DerivationGraph.from_records(parse_derivations(nix.show_derivation([drv])), origin="fixture")
        sub = subgraph(graph, range(len(graph)))
        seconds = [SLEEPS[graph.names[int(i)]] for i in sub.rows]
        system = graph.system_of(0)
        simulated = simulate(graph, sub, seconds, Farm({system: 1}, cores=slots)).makespan
        assert simulated == expected
        assert simulated - 0.05 <= measured <= simulated + len(SLEEPS) * OVERHEAD, (slots, measured)
        if slots == 2:
            length, chain = critical_path(sub, seconds)
            assert (length, [graph.names[int(sub.rows[v])] for v in chain]) == (5.0, ["a", "c", "d"])
        # What Nix says about its own build: Nix 2.8 prints no times (counted as untimed), newer Nix does.
        results = parse_durations(out, "nix build --json")
        if results.records:
            assert results.records[0].drv_path == drv and results.records[0].seconds >= SLEEPS["d"]
        else:
            assert results.untimed == 1
