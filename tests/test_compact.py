"""The compact snapshot holds exactly what it was made from."""

from __future__ import annotations

from pathlib import Path

from impact.loaders.compact import read_compact, write_compact
from impact.model import DerivationGraph


def test_embedded_snapshot_is_the_shared_master(master_graph: DerivationGraph, embedded_graph: DerivationGraph) -> None:
    assert embedded_graph.same_as(master_graph)
    assert embedded_graph.meta["commit"] == "a1884e63797cbc5f13a5a42663fa109aa2a86481"


def test_round_trip(master_graph: DerivationGraph, tmp_path: Path) -> None:
    target = tmp_path / "m.impact"
    write_compact(master_graph, target)
    assert read_compact(target).same_as(master_graph)
    assert not list(tmp_path.glob("*.tmp"))


def test_embedded_snapshot_is_small() -> None:
    from impact.loaders import EMBEDDED_SNAPSHOT

    assert EMBEDDED_SNAPSHOT.stat().st_size <= 10 * 1024 * 1024


def test_prefer_local_build_survives_the_round_trip(embedded_graph: DerivationGraph) -> None:
    import gzip
    import json

    from tests.conftest import MASTER, require_shared

    raw = json.loads(gzip.decompress((require_shared(MASTER) / "derivations.json.gz").read_bytes()))
    expected = sorted(p for p, d in raw.items() if d["env"].get("preferLocalBuild") == "1")
    got = sorted(embedded_graph.drv_paths[i] for i in embedded_graph.prefer_local_build.nonzero()[0].tolist())
    assert got == expected and len(expected) > 1000
