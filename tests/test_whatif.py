"""Output what-ifs and `impact outputs`, on a graph drawn by hand (answers worked out below) and on master."""

from __future__ import annotations

import json

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.outputs import package_outputs
from impact.analysis.whatif import only_output, parse_output_spec, split_output
from impact.cli import main
from impact.errors import UnknownNameError
from impact.model import DerivationGraph, Job
from impact.snapshots import SNAPSHOT_ENV
from tests.conftest import MASTER_2016
from tests.test_blast import SYSTEM, drv


def hand_graph() -> DerivationGraph:
    """lib (out, dev, man) ← app (out), tool (dev, out), doc (man); user ← app; bundle ← doc, app;
    env ← app (out) and ← other.man (a NixOS system-path-like gatherer of man pages); fetch (fixed) ← lib.out."""
    derivations = [
        drv("lib", outputs=("dev", "man", "out")),
        drv("app", {"lib": ("out",)}),
        drv("tool", {"lib": ("dev", "out")}),
        drv("doc", {"lib": ("man",)}),
        drv("user", {"app": ("out",)}),
        drv("bundle", {"doc": ("out",), "app": ("out",)}),
        drv("other", outputs=("man", "out")),
        drv("env", {"app": ("out",), "other": ("man", "out")}),
        drv("fetch", {"lib": ("out",), "doc": ("out",)}, fixed=True),
    ]
    by_name = {d.name: d for d in derivations}
    jobs = [
        Job(attr=f"{n}.{SYSTEM}", system=SYSTEM, jobset="nixpkgs", drv_path=by_name[n].path, name=n)
        for n in ("lib", "app", "tool", "doc", "user", "bundle", "other", "env")
    ]
    return DerivationGraph.from_records(derivations, jobs, origin="by hand")


def names(graph: DerivationGraph, rows: object) -> set[str]:
    return {graph.names[i] for i in rows.tolist()}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        # Only man changes: doc takes man; bundle takes doc. app, tool, user, env are cut off.
        ("man", {"lib", "doc", "bundle"}),
        # Only dev changes: tool alone takes dev.
        ("dev", {"lib", "tool"}),
        # Only out changes: app and tool take out; user, bundle, env take app. doc is cut off; fetch is fixed.
        ("out", {"lib", "app", "tool", "user", "bundle", "env"}),
    ],
)
def test_only_output_by_hand(output: str, expected: set[str]) -> None:
    graph = hand_graph()
    change = resolve_change(graph, ["lib"], commit=False)
    what = only_output(graph, change, output)
    assert names(graph, what.what_if.rebuilt) == expected
    assert what.what_if.derivations_to_build == len(expected)
    # Today every consumer rebuilds, whatever it takes (never past the fixed-output fetch).
    assert names(graph, what.today.rebuilt) == {"lib", "app", "tool", "doc", "user", "bundle", "env"}
    taking = {"man": {"doc"}, "dev": {"tool"}, "out": {"app", "tool"}}[output]
    assert what.cut_consumers == len({"app", "tool", "doc"} - taking)
    assert what.to_dict()["early_cutoff"]["derivations_to_build"] == len(expected)


def test_only_output_refuses_an_output_the_package_lacks() -> None:
    graph = hand_graph()
    with pytest.raises(UnknownNameError, match="outputs: dev, man, out"):
        only_output(graph, resolve_change(graph, ["lib"], commit=False), "bin")


def test_parse_output_spec() -> None:
    assert parse_output_spec("curl.man") == (("curl",), "man")
    assert parse_output_spec("tests.nat.standalone.out") == (("tests.nat.standalone",), "out")
    assert parse_output_spec("man", ("curl",)) == (("curl",), "man")
    with pytest.raises(UnknownNameError):
        parse_output_spec("man")


def test_split_by_hand() -> None:
    graph = hand_graph()
    change = resolve_change(graph, ["app"], commit=False)
    what = split_output(graph, change, "man")
    # env takes man from `other` already, so it would take app.man; user and bundle keep out.
    assert [(c.name, c.switches) for c in what.consumers] == [("env", True), ("bundle", False), ("user", False)]
    assert what.switching[0].because == "takes man from 1 other derivation"
    assert what.already_split == ()
    assert names(graph, what.split_itself.rebuilt) == {"app", "user", "bundle", "env"}
    # After the split, a change to app.man alone reaches env only.
    assert names(graph, what.later_change_cutoff.rebuilt) == {"app", "env"}
    d = what.to_dict()
    assert d["cannot_know_without_building"] and [c["name"] for c in d["switching"]] == ["env"]


def test_outputs_by_hand() -> None:
    graph = hand_graph()
    [entry] = package_outputs(graph, "lib").derivations
    by = {o.output: o for o in entry.outputs}
    assert set(by["out"].consumers) == {"app", "tool", "fetch"}
    assert by["out"].fixed_output_consumers == 1
    assert set(by["dev"].consumers) == {"tool"}
    assert set(by["man"].consumers) == {"doc"}
    assert by["out"].jobs == (f"nixpkgs: app.{SYSTEM}", f"nixpkgs: tool.{SYSTEM}")
    assert entry.consumers == 4
    assert (by["man"].cutoff_rebuild, by["dev"].cutoff_rebuild, by["out"].cutoff_rebuild) == (3, 2, 6)
    assert entry.rebuild_today == 7


def test_outputs_of_openssl_on_master(master_graph: DerivationGraph) -> None:
    report = package_outputs(master_graph, "openssl", only=True)
    assert {d.system for d in report.derivations} == {"x86_64-linux", "i686-linux", "x86_64-darwin"}
    for d in report.derivations:
        row = master_graph.index[d.drv]
        # Independently: every derivation's inputs, read one by one.
        expected: dict[str, set[str]] = {o: set() for o in master_graph.output_names[row]}
        for c in range(len(master_graph)):
            for j, outs in master_graph.inputs_of(c):
                if j == row:
                    for o in outs:
                        expected[o].add(master_graph.drv_paths[c])
        assert {o.output: set(o.consumer_drvs) for o in d.outputs} == expected
        assert {o.output for o in d.outputs} >= {"out", "dev", "man"}


def test_estimate_what_if_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SNAPSHOT_ENV, MASTER_2016)  # 2016 facts
    assert main(["estimate", "--only-output", "curl.man", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    what = doc["only_output_what_if"]
    assert what["output"] == "man"
    assert what["input_addressed_today"]["derivations_to_build"] == doc["derivations_to_build"]
    assert what["early_cutoff"]["derivations_to_build"] < doc["derivations_to_build"]
    assert main(["estimate", "docker", "--split-output", "man"]) == 0
    text = capsys.readouterr().out
    assert "What-if: split 'man'" in text and "Cannot be known without building" in text
    assert main(["outputs", "openssl", "--only", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {d["system"] for d in doc["derivations"]} == {"x86_64-linux", "i686-linux", "x86_64-darwin"}
    assert main(["estimate", "--only-output", "man"]) == 2
    assert "no package named" in capsys.readouterr().err
