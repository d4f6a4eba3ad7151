"""`impact eval` with real Nix on a tiny nixpkgs-like tree where some jobs fail: errors as Hydra records them,
chunked and parallel evaluation joined by `impact snapshot merge`, the workflow's merge step, and a private
store that does not grow.

The tree is tests/integration/fixtures_nixpkgs with a release.nix that adds failing jobs: a throw, an assert
(both caught by tryEval), a forbidden path and an abort (which stop Nix); and 30 more packages so that slices
hold different numbers of jobs.
"""

from __future__ import annotations

import gzip
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from impact.cli import main
from tests.conftest import require_nix

pytestmark = pytest.mark.nix

FIXTURE = Path(__file__).parent / "fixtures_nixpkgs"
SYSTEMS = ["--system", "x86_64-linux", "--system", "i686-linux", "--nixos"]
RELEASE = """\
{ supportedSystems ? [ "x86_64-linux" "i686-linux" ] }:
let
  pkgsFor = system: import ../.. { inherit system; };
  forAll = a: builtins.listToAttrs (map (s: { name = s; value = (pkgsFor s).${a}; }) supportedSystems);
  maintainers = [ "alice" [ { github = "bob"; } [ { name = 3; } ] ] ];
  extra = n: builtins.listToAttrs (map (system: { name = system; value = (pkgsFor system).stdenv.mkDerivation {
    name = "extra-${toString n}"; buildInputs = [ (pkgsFor system).hello ]; meta.maintainers = maintainers; };
  }) supportedSystems);
in
{
  curl = forAll "curl";
  libfoo = forAll "libfoo";
  hello = forAll "hello";
  bar = forAll "bar";
  broken = forAll "broken";
  thrown = { x86_64-linux = throw "thrown is not supported"; };
  asserted = { x86_64-linux = assert supportedSystems == [ ]; null; };
  steal = { x86_64-linux = builtins.readFile /etc/hostname; };
  aborted = { i686-linux = abort "aborted on purpose"; };
  extras = builtins.listToAttrs (builtins.genList (n: { name = "p${toString n}"; value = extra n; }) 30);
}
"""
#: The failing jobs and the start of the message each must carry, with its place in the tree.
EXPECTED_ERRORS = {
    "thrown.x86_64-linux": "thrown is not supported at pkgs/top-level/release.nix:16:",
    "asserted.x86_64-linux": "assertion '(supportedSystems == [ ])' failed at pkgs/top-level/release.nix:17:",
    "steal.x86_64-linux": "access to absolute path '/…' is forbidden in restricted mode at "
    "pkgs/top-level/release.nix:18:",
    "aborted.i686-linux": "evaluation aborted with the following error message: 'aborted on purpose' at "
    "pkgs/top-level/release.nix:19:",
    "broken.x86_64-linux": "broken is marked broken at pkgs/top-level/all-packages.nix:12:",
    "broken.i686-linux": "broken is marked broken at pkgs/top-level/all-packages.nix:12:",
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_nix()
    root = tmp_path_factory.mktemp("failing") / "nixpkgs"
    shutil.copytree(FIXTURE, root)
    (root / "pkgs/top-level/release.nix").write_text(RELEASE)
    return root


def impact(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def evaluate(tree: Path, out: Path, store: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    code, stdout, err = impact(
        "eval", str(tree), "-o", str(out), *SYSTEMS, "--store", f"local?root={store}", "--json", *extra, capsys=capsys
    )
    assert code == 0, err
    return json.loads(stdout)


def jobs_of(folder: Path) -> list[dict]:
    return [json.loads(x) for x in gzip.decompress((folder / "jobs.jsonl.gz").read_bytes()).splitlines()]


@pytest.fixture(scope="module")
def whole(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tree evaluated in one process (every error explained)."""
    tmp = tmp_path_factory.mktemp("whole")
    code = main(["eval", str(tree), "-o", str(tmp / "snap"), *SYSTEMS, "--store", f"local?root={tmp / 'store'}"])
    assert code == 0
    return tmp / "snap"


def test_failing_jobs_are_errors_with_nix_location_and_the_rest_is_evaluated(whole: Path) -> None:
    lines = jobs_of(whole)
    errors = {x["attr"]: x["error"] for x in lines if "error" in x}
    assert errors.keys() == EXPECTED_ERRORS.keys()
    for attr, start in EXPECTED_ERRORS.items():
        assert errors[attr].startswith(start), (attr, errors[attr])
        assert errors[attr].rsplit(":", 1)[1].isdigit()  # file:line:col
    evaluated = {x["attr"] for x in lines if "error" not in x}
    # 4 packages and 30 extras on two systems, the two NixOS jobs
    assert len(evaluated) == 4 * 2 + 30 * 2 + 2
    assert {"hello.i686-linux", "extras.p29.x86_64-linux", "tests.bar.x86_64-linux"} <= evaluated
    # meta is free-form (nested lists, sets with odd fields): read as well as it goes, never an error
    (extra,) = [x for x in lines if x["attr"] == "extras.p3.i686-linux"]
    assert extra["meta"]["maintainers"] == ["alice", "bob", "?"]


@pytest.mark.parametrize("chunks", [2, 3, 5])
def test_merged_slices_equal_the_whole_evaluation(
    tree: Path, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], chunks: int
) -> None:
    """Each slice evaluated alone, then joined: the same jobs, errors, derivations and output paths, byte for
    byte; every job in exactly one slice, and the slices are not lopsided."""
    slices = []
    for k in range(chunks):
        summary = evaluate(
            tree, tmp_path / f"s{k}", tmp_path / "store", capsys, "--chunks", str(chunks), "--chunk", str(k)
        )
        assert summary["slices"] == [k] and summary["chunks"] == chunks
        slices.append(tmp_path / f"s{k}")
    sizes = [len(jobs_of(s)) for s in slices]
    assert sum(sizes) == len(jobs_of(whole))
    assert min(sizes) > 0 and max(sizes) < 0.75 * sum(sizes)
    code, out, err = impact("snapshot", "merge", *map(str, reversed(slices)), "-o", str(tmp_path / "m"), capsys=capsys)
    assert code == 0, err
    assert f"slices {', '.join(map(str, range(chunks)))} of {chunks}" in out
    for name in ("jobs.jsonl.gz", "derivations.json.gz"):
        assert (tmp_path / "m" / name).read_bytes() == (whole / name).read_bytes(), name


def test_jobs_in_parallel_equal_the_whole_evaluation_and_report_memory(
    tree: Path, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = evaluate(tree, tmp_path / "j", tmp_path / "store", capsys, "--jobs", "2")
    assert summary["slices"] == [0, 1] and summary["chunks"] == 2
    slice_runs = [p for p in summary["processes"] if p["label"].startswith("chunk ")]
    # each slice once, and again for each job that stopped Nix in it (steal and aborted: 2 in all)
    assert {p["label"].split(" again")[0] for p in slice_runs} == {"chunk 1/2", "chunk 2/2"}
    assert sum(" again, " in p["label"] for p in slice_runs) == 2
    # nix-instantiate's peak RSS: more than a few MiB, less than the 8 GiB limit
    assert all(4 << 20 < p["peak_rss"] < 8 << 30 for p in summary["processes"])
    for name in ("jobs.jsonl.gz", "derivations.json.gz"):
        assert (tmp_path / "j" / name).read_bytes() == (whole / name).read_bytes(), name


def test_merge_refuses_overlapping_or_foreign_slices(
    tree: Path, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for k in (0, 1):
        evaluate(tree, tmp_path / f"s{k}", tmp_path / "store", capsys, "--chunks", "2", "--chunk", str(k))
    evaluate(tree, tmp_path / "other", tmp_path / "store", capsys, "--chunks", "3", "--chunk", "1")
    cases = [
        ([tmp_path / "s0", tmp_path / "s0"], "slice 0 is also in"),
        ([tmp_path / "s0", whole], "chunks is 1 but 2"),
        ([tmp_path / "s0", tmp_path / "other"], "chunks is 3 but 2"),
        ([tmp_path / "s0", tmp_path / "missing"], "no eval.json"),
    ]
    for folders, message in cases:
        code, out, err = impact("snapshot", "merge", *map(str, folders), "-o", str(tmp_path / "m"), capsys=capsys)
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and message in err, err
        assert not (tmp_path / "m").exists()
    # a slice whose job was copied into another: the overlap is found job by job
    info = json.loads((tmp_path / "s1" / "eval.json").read_text())
    forged = tmp_path / "forged"
    shutil.copytree(tmp_path / "s0", forged)
    (forged / "eval.json").write_text(json.dumps(info))
    code, _, err = impact(
        "snapshot", "merge", str(tmp_path / "s0"), str(forged), "-o", str(tmp_path / "m"), capsys=capsys
    )
    assert code == 2 and "is also in" in err and "the slices overlap" in err


def test_the_private_store_is_collected_after_each_evaluation(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default store (under XDG_CACHE_HOME) keeps nothing once the snapshot is written; --no-gc keeps the
    .drv files and the copy of the tree; a collection never runs while an evaluation holds the store."""
    from impact.nix import collect_garbage, isolated_nix

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = tmp_path / "cache" / "impact" / "nix" / "nix" / "store"

    def held() -> list[str]:
        return sorted(p.name for p in store.iterdir() if not p.name.startswith(".")) if store.exists() else []

    code, out, err = impact("eval", str(tree), "-o", str(tmp_path / "a"), *SYSTEMS, "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["store_freed"] > 0
    assert held() == []
    code, out, err = impact("eval", str(tree), "-o", str(tmp_path / "b"), *SYSTEMS, "--no-gc", "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["store_freed"] is None
    kept = held()
    drvs = {x["drvPath"].rsplit("/", 1)[1] for x in jobs_of(tmp_path / "b") if "drvPath" in x}
    assert drvs <= set(kept) and any(n.endswith("-nixpkgs") for n in kept)  # the tree the NixOS job copies
    nix = isolated_nix(tmp_path / "cache" / "impact" / "nix")
    with nix.evaluating():
        assert collect_garbage(nix) is None
    assert held() == kept
    assert collect_garbage(nix) > 0
    assert held() == []


def test_the_workflow_merge_step_joins_the_matrix_chunks(
    tree: Path, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each matrix entry's chunk, laid out as download-artifact lays them (slices/slice-K/), merged by the
    workflow's own merge command: the same snapshot as one evaluation."""
    from tests.test_eval_workflow import EVAL_WORKFLOW, load, step

    doc = load(EVAL_WORKFLOW)
    chunks = int(doc["env"]["CHUNKS"])
    for k in doc["jobs"]["eval"]["strategy"]["matrix"]["chunk"]:
        evaluate(
            tree,
            tmp_path / "slices" / f"slice-{k}",
            tmp_path / "store",
            capsys,
            "--chunks",
            str(chunks),
            "--chunk",
            str(k),
        )
    script = step(doc, "merge", "Merge the chunks")["run"]
    merge_line = next(line for line in script.splitlines() if "snapshot merge" in line)
    assert shlex.split(merge_line)[:3] == ["impact", "snapshot", "merge"]
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", merge_line],
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for name in ("jobs.jsonl.gz", "derivations.json.gz"):
        assert (tmp_path / "snapshot" / name).read_bytes() == (whole / name).read_bytes(), name


def test_impact_diff_equals_a_plain_out_path_diff(
    tree: Path, whole: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The independent check used on the 2019 trees (outpath_diff.py), on an edit of libfoo and a new job."""
    from tests.integration.outpath_diff import check, outpath_diff

    edited = tmp_path / "edited"
    shutil.copytree(tree, edited)
    libfoo = edited / "pkgs/development/libfoo/default.nix"
    libfoo.write_text(libfoo.read_text().replace("1.0", "1.1"))
    release = edited / "pkgs/top-level/release.nix"
    release.write_text(
        release.read_text().replace('  curl = forAll "curl";', '  curl = forAll "curl";\n  again = forAll "hello";')
    )
    evaluate(edited, tmp_path / "head", tmp_path / "store", capsys, "--chunks", "2", "--jobs", "2")
    plain = outpath_diff(whole, tmp_path / "head")
    assert ("nixpkgs", "libfoo.x86_64-linux") in plain["changed"] and ("nixpkgs", "bar.i686-linux") in plain["changed"]
    assert plain["added"] == {("nixpkgs", "again.x86_64-linux"), ("nixpkgs", "again.i686-linux")}
    code, out, err = impact("diff", str(whole), str(tmp_path / "head"), "--json", capsys=capsys)
    assert code == 0, err
    assert check(whole, tmp_path / "head", json.loads(out)) == {}


CRASHING_NIX = """\
#!{python}
# nix-instantiate crashing (SIGSEGV, as Nix 2.8's garbage collector does now and then) on any slice of the
# jobs wider than a quarter; every other call is the real one.
import json, os, signal, sys
folder = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("impact-args="))
args = json.load(open(os.path.join(folder, "args.json")))
if args.get("catch", True) and args["chunks"] < {below}:
    os.kill(os.getpid(), signal.SIGSEGV)
os.execv({real!r}, sys.argv)
"""


@pytest.mark.parametrize("below", [4, 1000])
def test_a_slice_nix_crashes_on_is_evaluated_again_in_halves(
    tree: Path,
    whole: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    below: int,
) -> None:
    """A crash is retried once as it was, then the slice is cut in halves (the same jobs, another schedule of
    allocations) until Nix gets through: the snapshot is the whole evaluation's, byte for byte. A crash that
    no cut avoids is one line naming it, exit 2, nothing written."""
    real = shutil.which("nix-instantiate")
    assert real is not None
    fake = tmp_path / "bin" / "nix-instantiate"
    fake.parent.mkdir()
    fake.write_text(CRASHING_NIX.format(python=sys.executable, below=below, real=real))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    args = ("eval", str(tree), "-o", str(tmp_path / "s"), *SYSTEMS, "--store", f"local?root={tmp_path / 'store'}")
    if below > 4:
        monkeypatch.setattr("impact.nix.MAX_CHUNKS", 4)
        code, _out, err = impact(*args, capsys=capsys)
        assert code == 2 and "nix-instantiate crashed (segmentation fault)" in err and "Traceback" not in err
        assert not (tmp_path / "s").exists()
        return
    summary = evaluate(tree, tmp_path / "s", tmp_path / "store", capsys)
    labels = [p["label"] for p in summary["processes"] if p["label"].startswith(("all jobs", "chunk "))]
    # the whole twice, each half twice, then the four quarters (once more for each job that stops Nix in them)
    crashed = ["all jobs", "all jobs again", "chunk 1/2", "chunk 1/2 again", "chunk 2/2", "chunk 2/2 again"]
    assert [x for x in labels if "/4" not in x] == crashed
    assert {x.split(" again")[0] for x in labels if "/4" in x} == {"chunk 1/4", "chunk 2/4", "chunk 3/4", "chunk 4/4"}
    for name in ("jobs.jsonl.gz", "derivations.json.gz"):
        assert (tmp_path / "s" / name).read_bytes() == (whole / name).read_bytes(), name


def test_named_jobs_are_cut_in_halves_without_doubling(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The halves of a crashed slice of named jobs (`--git`'s candidates) hold each job once, however deep the
    name: a job named below its chunk key (`tests.bar.x86_64-linux`) belongs to the key's half only."""
    from impact.nix import Limits, eval_release, isolated_nix

    only = [
        {"jobset": "nixos", "path": ["tests", "bar", "x86_64-linux"]},
        {"jobset": "nixpkgs", "path": ["hello", "x86_64-linux"]},
        {"jobset": "nixpkgs", "path": ["bar"]},
    ]

    def named() -> list[tuple[str, str]]:
        nix = isolated_nix(tmp_path / "store")
        lines = eval_release(
            nix, tree, ["x86_64-linux", "i686-linux"], nixos=True, only=only, limits=Limits(timeout=60)
        )
        return sorted((x["jobset"], x["attr"]) for x in lines)

    expected = named()
    assert ("nixos", "tests.bar.x86_64-linux") in expected and len(expected) == 4
    real = shutil.which("nix-instantiate")
    assert real is not None
    fake = tmp_path / "bin" / "nix-instantiate"
    fake.parent.mkdir()
    fake.write_text(CRASHING_NIX.format(python=sys.executable, below=8, real=real))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    assert named() == expected
