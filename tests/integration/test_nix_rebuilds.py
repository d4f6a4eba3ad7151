"""Real Nix as ground truth: instantiate a small package set, edit one derivation, re-instantiate, and check
that the estimate made from the first graph alone equals the output paths Nix really changed.

The fixture (fixtures/pkgs.nix, fixtures/release.nix) is a stdenv-like chain with a multi-output library
whose consumers take different outputs, and a fixed-output fetch run by a curl. Nix's answer is computed
here from Nix's own JSON, without impact: a job changed when its output paths differ; a derivation is to
build when one of its output paths is not among the first evaluation's.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.rebuild import estimate
from impact.cli import main
from impact.errors import NixError
from impact.loaders import aterm
from impact.loaders.eval_jobs import parse_job_lines
from impact.loaders.show_derivation import parse_derivations
from impact.model import DerivationGraph, Job
from impact.nix import Nix, isolated_nix, jobs_jsonl, temporary_store
from tests.conftest import require_nix

pytestmark = pytest.mark.nix

RELEASE = Path(__file__).parent / "fixtures" / "release.nix"
SYSTEMS = ("x86_64-linux", "i686-linux")
#: A second valid sha256 for the fetch (any 52 base-32 characters are a hash to Nix; none is ever built).
OTHER_HASH = "1111111111111111111111111111111111111111111111111111"


@dataclass
class Evaluation:
    """One evaluation of the fixture: its store, its nix-eval-jobs lines and `nix show-derivation -r` JSON."""

    nix: Nix
    lines: list[dict[str, Any]]
    derivations: dict[str, Any]

    def jobs(self) -> list[Job]:
        return parse_job_lines(jobs_jsonl(self.lines).splitlines(), "fixture")[0]

    def graph(self) -> DerivationGraph:
        """The graph as loaded from show-derivation JSON + the job lines."""
        return DerivationGraph.from_records(parse_derivations(self.derivations), self.jobs(), origin="fixture")


def evaluate(root: Path, edits: dict[str, dict[str, str]]) -> Evaluation:
    nix = isolated_nix(root)
    lines = nix.eval_attrs(RELEASE, force_recurse=True, args={"edits": edits}, jobset="nixpkgs")
    assert lines and all("error" not in line for line in lines)
    derivations = nix.show_derivation(line["drvPath"] for line in lines)
    return Evaluation(nix, lines, derivations)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    require_nix()
    return evaluate(tmp_path_factory.mktemp("base"), {})


def nix_answer(old: Evaluation, new: Evaluation) -> tuple[list[str], int, dict[str, int]]:
    """Nix's real changes: changed job attrs, derivations with new output paths, and those per system."""
    old_outputs = {o["path"] for d in old.derivations.values() for o in d["outputs"].values()}
    built = [d for d in new.derivations.values() if any(o["path"] not in old_outputs for o in d["outputs"].values())]
    old_jobs = {line["attr"]: line["outputs"] for line in old.lines}
    changed = sorted(line["attr"] for line in new.lines if old_jobs[line["attr"]] != line["outputs"])
    assert {line["attr"] for line in new.lines} == set(old_jobs)
    return changed, len(built), dict(Counter(d["system"] for d in built))


def roots_named(evaluation: Evaluation, name: str) -> list[str]:
    """The derivations an edit of `name` changes directly: those with that name, read from Nix's JSON."""
    return sorted(p for p, d in evaluation.derivations.items() if d["env"]["name"] == name)


EDITS = {
    "leaf": ("hello-2.10", {"patches": "fix-typo.patch"}),
    "multi-output-lib": ("zlib-1.2.8", {"configureFlags": "--static"}),
    "stdenv": ("stdenv", {"preHook": "export LC_ALL=C"}),
    "curl": ("curl-7.49", {"patches": "CVE-2016-5419.patch"}),
    "fetch-new-hash": ("hello-2.10.tar.gz", {"outputHash": OTHER_HASH}),
}


@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_estimate_equals_nix(base: Evaluation, tmp_path: Path, edit: str) -> None:
    name, attrs = EDITS[edit]
    edited = evaluate(tmp_path / "store", {name: attrs})
    changed, to_build, by_system = nix_answer(base, edited)
    roots = roots_named(base, name)
    assert len(roots) == len(SYSTEMS)
    assert changed, "the edit must change something in Nix's eyes"

    graph = base.graph()
    result = estimate(graph, resolve_change(graph, drvs=roots))
    assert list(result.changed_jobs["nixpkgs"]) == changed
    assert result.derivations_to_build == to_build
    assert dict(result.derivations_to_build_by_system) == by_system


def test_fetch_consumer_keeps_its_outputs_when_curl_changes(base: Evaluation, tmp_path: Path) -> None:
    name, attrs = EDITS["curl"]
    edited = evaluate(tmp_path / "store", {name: attrs})
    changed, to_build, _ = nix_answer(base, edited)
    # By hand from pkgs.nix: curl and git (which takes curl) change; hello only takes curl's fixed-output
    # fetch, so it keeps its outputs; 2 derivations per system (curl, git).
    assert changed == ["curl.i686-linux", "curl.x86_64-linux", "git.i686-linux", "git.x86_64-linux"]
    assert to_build == 4
    old = {line["attr"]: line for line in base.lines}
    for line in edited.lines:
        if line["attr"].startswith("hello."):
            assert line["drvPath"] != old[line["attr"]]["drvPath"], "hello's .drv names the fetch's new .drv"
            assert line["outputs"] == old[line["attr"]]["outputs"], "but its output paths stay"

    graph = base.graph()
    result = estimate(graph, resolve_change(graph, drvs=roots_named(base, name)))
    rebuilt_names = {graph.names[i] for i in result.rebuilt.tolist()}
    assert rebuilt_names == {"curl-7.49", "git-2.9.0"}


def test_estimate_cli_on_a_snapshot_folder(
    base: Evaluation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "snap"
    folder.mkdir()
    (folder / "jobs.jsonl").write_text(jobs_jsonl(base.lines))
    (folder / "derivations.json").write_text(json.dumps(base.derivations))
    roots = roots_named(base, "zlib-1.2.8")
    argv = ["estimate", "--snapshot", str(folder), "--json"] + [a for r in roots for a in ("--drv", r)]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    # By hand from pkgs.nix: zlib and everything taking any of its outputs, on each system where built.
    expected = [
        *sorted(
            f"{attr}.{system}" for attr in ("zlib", "openssl", "hello", "manview", "app-ssl") for system in SYSTEMS
        ),
        "zlib-tool.x86_64-linux",
    ]
    assert out["changed_jobs"]["nixpkgs"] == sorted(expected)


def test_three_nix_formats_give_the_same_graph(base: Evaluation) -> None:
    store_root = base.nix.store_root
    assert store_root is not None
    jobs = base.jobs()
    from_json = base.graph()
    from_drv_files = DerivationGraph.from_records(
        aterm.read_closure([line["drvPath"] for line in base.lines], store_root), jobs, origin="drv"
    )
    lines_file = store_root / "jobs.jsonl"
    lines_file.write_text(jobs_jsonl(base.lines))
    job_list, errors = parse_job_lines(lines_file.read_text().splitlines(), str(lines_file))
    from_lines = aterm.load_jobs_from_store(job_list, errors, str(lines_file), store_root=store_root)

    assert len(from_json) == len(base.derivations) and from_json.job_count == len(base.lines)
    assert from_json.same_as(from_drv_files)
    assert from_json.same_as(from_lines)
    assert from_lines.same_as(from_drv_files)
    # The store folder holds exactly this evaluation's .drv files.
    from_store_dir = aterm.load_store_dir(store_root / "nix" / "store")
    assert DerivationGraph.from_records(parse_derivations(base.derivations)).same_as(from_store_dir)
    # Spot checks against Nix's JSON, independent of the loaders: the fetch is fixed-output, zlib has four
    # outputs, openssl takes zlib's dev output alone.
    for system in SYSTEMS:
        named = {d["env"]["name"]: p for p, d in base.derivations.items() if d["system"] == system}
        assert from_drv_files.derivation(named["hello-2.10.tar.gz"]).fixed_output
        assert not from_drv_files.derivation(named["hello-2.10"]).fixed_output
        assert sorted(from_drv_files.derivation(named["zlib-1.2.8"]).outputs) == ["bin", "dev", "man", "out"]
        assert dict(from_drv_files.derivation(named["openssl-1.0.2"]).inputs)[named["zlib-1.2.8"]] == ("dev",)
        assert dict(from_drv_files.derivation(named["manview-1.0"]).inputs)[named["zlib-1.2.8"]] == ("man",)


def test_real_nix_errors_and_temporary_store() -> None:
    require_nix()
    with temporary_store() as nix:
        root = nix.store_root
        assert root is not None
        with pytest.raises(NixError) as e:
            nix.instantiate(RELEASE.parent / "pkgs.nix", ["nope"])
        assert str(e.value) == "nix-instantiate failed: attribute 'nope' in selection path 'nope' not found"
        assert "nope" in e.value.stderr and e.value.command[0] == "nix-instantiate"
        (drv,) = nix.instantiate(RELEASE.parent / "pkgs.nix", ["zlib.dev"])
        assert drv.startswith("/nix/store/") and drv.endswith("-zlib-1.2.8.drv")
        assert (root / drv.lstrip("/")).is_file(), "the chroot store keeps /nix/store paths under its root"
    assert not root.exists()
