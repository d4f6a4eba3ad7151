"""impact.analysis.diff: jobs compared by output paths, root changes, pairing and the cross-check.

The small graphs are built by hand, and every expectation below is counted by hand from them.
"""

from __future__ import annotations

import json

import pytest

from impact.analysis.diff import diff_snapshots
from impact.cli import main
from impact.model import Derivation, DerivationGraph, Job
from tests.conftest import MASTER, STAGING, require_shared

SYS = "x86_64-linux"


def drv(
    key: str, name: str, outputs: dict[str, str], inputs: dict[str, tuple[str, ...]] | None = None, fixed: bool = False
) -> Derivation:
    """A derivation whose paths are made from short keys (`/nix/store/<key padded to 32>-name`)."""
    return Derivation(
        path=f"/nix/store/{key.ljust(32, 'a')}-{name}.drv",
        name=name,
        system=SYS,
        outputs={o: f"/nix/store/{p.ljust(32, 'a')}-{name}" for o, p in outputs.items()},
        fixed_output=fixed,
        inputs=dict(inputs or {}),
    )


def job(attr: str, d: Derivation, jobset: str = "nixpkgs") -> Job:
    return Job(attr=f"{attr}.{SYS}", system=SYS, jobset=jobset, drv_path=d.path, name=d.name, outputs=dict(d.outputs))


def graphs() -> tuple[DerivationGraph, DerivationGraph]:
    """BASE and HEAD of a commit that edits curl and bumps libfoo, adds newpkg and drops gone.

    hello takes a fetchurl (fixed-output) whose builder uses curl: the fetch's drv path changes with curl, its
    output path does not, so hello keeps its output paths although its drv path changes.
    """
    curl = drv("c1", "curl-7.49", {"out": "co1", "dev": "cd1"})
    fetch = drv("f1", "hello-2.10.tar.gz", {"out": "fo"}, {curl.path: ("out",)}, fixed=True)
    hello = drv("h1", "hello-2.10", {"out": "ho"}, {fetch.path: ("out",)})
    lib = drv("l1", "libfoo-1.0", {"out": "lo1", "dev": "ld1"})
    app = drv("a1", "app-3.1", {"out": "ao1"}, {lib.path: ("dev",)})
    tool = drv("t1", "tool-1", {"out": "to"})
    gone = drv("g1", "gone-1", {"out": "go"})
    base = DerivationGraph.from_records(
        [curl, fetch, hello, lib, app, tool, gone],
        [
            job("curl", curl),
            job("hello", hello),
            job("libfoo", lib),
            job("app", app),
            job("tool", tool),
            job("gone", gone),
        ],
        origin="base",
    )
    curl2 = drv("c2", "curl-7.49", {"out": "co2", "dev": "cd2"})
    fetch2 = drv("f2", "hello-2.10.tar.gz", {"out": "fo"}, {curl2.path: ("out",)}, fixed=True)
    hello2 = drv("h2", "hello-2.10", {"out": "ho"}, {fetch2.path: ("out",)})
    lib2 = drv("l2", "libfoo-1.1", {"out": "lo2", "dev": "ld2"})
    app2 = drv("a2", "app-3.1", {"out": "ao2"}, {lib2.path: ("dev",)})
    new = drv("n2", "newpkg-1", {"out": "no"})
    head = DerivationGraph.from_records(
        [curl2, fetch2, hello2, lib2, app2, tool, new],
        [
            job("curl", curl2),
            job("hello", hello2),
            job("libfoo", lib2),
            job("app", app2),
            job("tool", tool),
            job("newpkg", new),
        ],
        origin="head",
    )
    return base, head


def test_jobs_by_output_paths() -> None:
    base, head = graphs()
    d = diff_snapshots(base, head)
    assert d.changed["nixpkgs"] == ("app.x86_64-linux", "curl.x86_64-linux", "libfoo.x86_64-linux")
    assert d.added["nixpkgs"] == ("newpkg.x86_64-linux",)
    assert d.removed["nixpkgs"] == ("gone.x86_64-linux",)
    assert d.by_system["nixpkgs"][SYS] == {"changed": 3, "added": 1, "removed": 1}
    # curl, libfoo, app, newpkg get new outputs; the fetch and hello keep theirs though their drv paths change.
    assert d.derivations_to_build == 4
    assert d.derivations_to_build_by_system == {SYS: 4}


def test_roots_and_pairing() -> None:
    base, head = graphs()
    d = diff_snapshots(base, head)
    roots = {r.name: (r.base_name, r.paired_by) for r in d.roots}
    assert roots == {
        "curl-7.49": ("curl-7.49", "job"),
        "libfoo-1.1": ("libfoo-1.0", "job"),
        "newpkg-1": (None, "new"),
    }
    assert d.agrees and not [f for f in d.findings if f.check == "head-check"]
    assert d.head_estimate.derivations_to_build == 4
    # On BASE, curl and libfoo-1.0 predict curl, libfoo and app, exactly the changed jobs.
    assert d.base_prediction["nixpkgs"] == d.changed["nixpkgs"]
    assert [f.check for f in d.findings] == ["base-prediction"]  # only: newpkg has no counterpart


def test_pairing_by_name_without_a_job() -> None:
    src = drv("s1", "foo.patch", {"out": "so1"})
    user = drv("u1", "user-1", {"out": "uo1"}, {src.path: ("out",)})
    base = DerivationGraph.from_records([src, user], [job("user", user)], origin="base")
    src2 = drv("s2", "foo.patch", {"out": "so2"})
    other = drv("x1", "foo.patch", {"out": "xo"}, {})
    user2 = drv("u2", "user-1", {"out": "uo2"}, {src2.path: ("out",)})
    head = DerivationGraph.from_records([src2, other, user2], [job("user", user2)], origin="head")
    d = diff_snapshots(base, head)
    assert [(r.name, r.base_path, r.paired_by) for r in d.roots] == [
        ("foo.patch", src.path, "name"),
        ("foo.patch", src.path, "name"),
    ]


def test_disagreement_is_a_finding() -> None:
    """A consumer whose input changed but whose output paths Nix kept cannot happen with input-addressed
    derivations; built by hand, the cross-check must say so."""
    lib = drv("l1", "lib-1", {"out": "lo1"})
    app = drv("a1", "app-1", {"out": "ao"}, {lib.path: ("out",)})
    base = DerivationGraph.from_records([lib, app], [job("app", app)], origin="base")
    lib2 = drv("l2", "lib-1", {"out": "lo2"})
    app2 = drv("a2", "app-1", {"out": "ao"}, {lib2.path: ("out",)})
    head = DerivationGraph.from_records([lib2, app2], [job("app", app2)], origin="head")
    d = diff_snapshots(base, head)
    assert not d.agrees
    messages = [f.message for f in d.findings if f.check == "head-check"]
    assert any("app-1" in m and "kept their output paths" in m for m in messages)
    assert any("app.x86_64-linux" in m for m in messages)


@pytest.mark.shared
def test_staging_to_master_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    """On the real snapshots the exact estimate from the root changes reproduces every changed job."""
    require_shared(STAGING)
    require_shared(MASTER)
    assert main(["diff", str(STAGING), str(MASTER), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cross_check"]["agrees"] is True
    # Hydra builds only what the changed jobs need: never more than the derivations with new output paths.
    assert 0 < out["derivations_to_build"] <= out["derivations_with_new_outputs"]
    # Independent of impact's graph code: count changed attributes straight from the two jobs files.
    import gzip

    def outs(folder):  # type: ignore[no-untyped-def]
        with gzip.open(folder / "jobs.jsonl.gz", "rt") as f:
            return {(r["jobset"], r["attr"]): r["outputs"] for r in map(json.loads, f) if "error" not in r}

    a, b = outs(STAGING), outs(MASTER)
    changed = sorted(k for k in a.keys() & b.keys() if a[k] != b[k])
    assert sorted((js, attr) for js, v in out["changed"].items() for attr in v) == changed
    assert sum(len(v) for v in out["added"].values()) == len(b.keys() - a.keys())
    assert sum(len(v) for v in out["removed"].values()) == len(a.keys() - b.keys())
