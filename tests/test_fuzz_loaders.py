"""Property-based fuzzing of every loader (hypothesis): whatever the bytes, a loader returns its records or
raises `InputError`, never any other exception; and what `snapshot import` writes reads back the same.

Hypothesis is the well-kept tool for this: it generates inputs from strategies (JSON values, text, byte
flips), shrinks a failure to its smallest form and replays it. Example counts are bounded (`FAST`) so the file
runs in well under a minute in CI.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impact.analysis.policy import parse_policy
from impact.errors import InputError
from impact.loaders._checks import find_cycle
from impact.loaders._io import gunzip, parse_json
from impact.loaders.aterm import parse_drv
from impact.loaders.compact import read_compact, write_compact, write_compact_v1
from impact.loaders.durations import parse_durations
from impact.loaders.eval_jobs import parse_job_lines
from impact.loaders.show_derivation import parse_derivations
from impact.model import Derivation, DerivationGraph, EvalError, Job

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
S = "/nix/store/"

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


def refuses_or_loads(load: Callable[[], Any]) -> Any:
    """Run `load`; an `InputError` is a fine answer, anything else raised fails the test."""
    try:
        return load()
    except InputError as e:
        assert str(e) and "\n" not in " ".join(str(e).split()), e
        return None


# -- a valid sample of each format, mutated one value at a time ---------------------------------------------------


def sample_derivations() -> dict[str, Any]:
    lib, app = f"{S}{'1' * 32}-lib.drv", f"{S}{'2' * 32}-app.drv"
    return {
        lib: {"outputs": {"out": {"path": f"{S}{'3' * 32}-lib"}}, "inputSrcs": [f"{S}{'5' * 32}-src"],
              "inputDrvs": {}, "system": "x86_64-linux", "env": {"name": "lib"}},
        app: {"outputs": {"out": {"path": f"{S}{'4' * 32}-app"}, "dev": {"hashAlgo": "sha256", "hash": "ab" * 32,
              "method": "flat"}}, "inputSrcs": [], "inputDrvs": {lib: ["out"]}, "system": "x86_64-linux",
              "env": {"name": "app", "__json": '{"requiredSystemFeatures": ["kvm"]}'}},
    }  # fmt: skip


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside nested dicts and lists."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += paths_of(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += paths_of(v, (*prefix, i))
    return found


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    doc = json.loads(json.dumps(doc))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


DRV_PATHS = paths_of(sample_derivations())


@FAST
@given(st.sampled_from(DRV_PATHS), json_values)
def test_show_derivation_any_value_anywhere(path: tuple[Any, ...], value: Any) -> None:
    doc = replaced(sample_derivations(), path, value)
    refuses_or_loads(lambda: parse_derivations(doc, "fuzz.json"))


@FAST
@given(json_values)
def test_show_derivation_any_document(doc: Any) -> None:
    refuses_or_loads(lambda: parse_derivations(doc, "fuzz.json"))


@FAST
@given(st.text(max_size=300))
def test_parse_json_any_text(text: str) -> None:
    refuses_or_loads(lambda: parse_json(text, "fuzz.json"))


def sample_job() -> dict[str, Any]:
    return {"attr": "app.x86_64-linux", "attrPath": ["app", "x86_64-linux"], "drvPath": f"{S}{'2' * 32}-app.drv",
            "jobset": "nixpkgs", "name": "app", "system": "x86_64-linux", "outputs": {"out": f"{S}{'4' * 32}-app"},
            "meta": {"maintainers": ["alice", {"github": "bob"}], "position": "pkgs/app.nix:3"}}  # fmt: skip


JOB_PATHS = paths_of(sample_job())


@FAST
@given(st.sampled_from(JOB_PATHS), json_values, st.booleans())
def test_job_lines_any_value_anywhere(path: tuple[Any, ...], value: Any, twice: bool) -> None:
    line = json.dumps(replaced(sample_job(), path, value))
    jobs = refuses_or_loads(lambda: parse_job_lines([line] * (2 if twice else 1), "fuzz.jsonl"))
    if jobs is not None:
        assert len(jobs[0]) + len(jobs[1]) == 1  # a line repeated word for word counts once
        for job in jobs[0]:
            assert isinstance(job.attr, str) and isinstance(job.system, str) and isinstance(job.drv_path, str)
            assert all(isinstance(m, str) for m in job.maintainers)


@FAST
@given(st.lists(st.text(max_size=80), max_size=5))
def test_job_lines_any_text(lines: list[str]) -> None:
    refuses_or_loads(lambda: parse_job_lines(lines, "fuzz.jsonl"))


GOOD_DRV = (
    f'Derive([("out","{S}{"3" * 32}-lib","","")],[("{S}{"1" * 32}-dep.drv",["out"])],["{S}{"5" * 32}-src"],'
    '"x86_64-linux","/bin/sh",["-e"],[("name","lib"),("__json","{\\"x\\": [1]}")])'
)


@FAST
@given(st.integers(0, len(GOOD_DRV)), st.integers(0, 8), st.text(alphabet='()[],"\\ xDerive\n', max_size=8))
def test_aterm_mutated(at: int, cut: int, insert: str) -> None:
    text = GOOD_DRV[:at] + insert + GOOD_DRV[at + cut :]
    refuses_or_loads(lambda: parse_drv(text, f"{S}{'9' * 32}-lib.drv"))


@FAST
@given(st.text(max_size=200))
def test_aterm_any_text(text: str) -> None:
    refuses_or_loads(lambda: parse_drv(text, "x.drv"))


@FAST
@given(json_values | st.lists(st.dictionaries(st.sampled_from(
    ["starttime", "stoptime", "timestamp", "job", "drvPath", "startTime", "stopTime", "value", "buildstatus",
     "system", "jobset", "build-times", "status"]), json_values, max_size=6), max_size=4))  # fmt: skip
def test_durations_any_json(value: Any) -> None:
    refuses_or_loads(lambda: parse_durations(json.dumps(value), "fuzz.json", job="app.x86_64-linux"))


@FAST
@given(st.lists(st.lists(st.text(alphabet='0123456789abc.,"-\n', max_size=8), min_size=1, max_size=12), max_size=4))
def test_durations_any_csv(rows: list[list[str]]) -> None:
    head = "project,jobset,job,timestamp,drvpath,system,buildstatus,starttime,stoptime,machine"
    text = head + "\n" + "\n".join(",".join(r) for r in rows)
    refuses_or_loads(lambda: parse_durations(text, "fuzz.csv"))


POLICY = (
    '[policy]\nname = "p"\nmeasure = "packages-per-kernel"\n[policy.kernel-change]\nroot-name = "^linux"\n'
    '[[line]]\nmaster = "master"\nstaging = "staging"\n'
    '[[rule]]\nid = "mass"\ntarget = "staging"\ntext = "{packages}"\n[rule.when]\nrebuilds-at-least = 500\n'
)


@FAST
@given(st.integers(0, len(POLICY)), st.integers(0, 6), st.text(alphabet='[]="\n.# 5-abc{}', max_size=6))
def test_policy_mutated(at: int, cut: int, insert: str) -> None:
    refuses_or_loads(lambda: parse_policy(POLICY[:at] + insert + POLICY[at + cut :], "fuzz.toml"))


@FAST
@given(st.binary(max_size=200), st.booleans())
def test_gunzip_any_bytes(data: bytes, magic: bool) -> None:
    raw = (b"\x1f\x8b" + data) if magic else gzip.compress(data)[: max(2, len(data))]
    refuses_or_loads(lambda: gunzip(raw, "fuzz.gz", limit=10_000))


# -- compact snapshots: flipped bytes are refused or read; random graphs round-trip ------------------------------------


names = st.text(max_size=12) | st.sampled_from(["a\nb", "`x`", "x|y", "</details>", "é", "\udc80", "a\x1fb", ""])


@st.composite
def graphs(draw: st.DrawFn) -> DerivationGraph:
    """A small random DAG of derivations (odd names and paths included) with jobs in many jobsets."""
    n = draw(st.integers(1, 6))
    drvs: list[Derivation] = []
    for i in range(n):
        name = draw(names)
        odd = draw(st.sampled_from(["", "short", "non-ascii", "other-store"]))
        path = {
            "": f"{S}{i:032d}-{name}.drv",
            "short": f"{S}x{i}.drv",
            "non-ascii": f"{S}{'é' * 31}{i % 10}-{name}.drv",
            "other-store": f"/gnu/store/{i:032d}-{name}.drv",
        }[odd]
        inputs = {drvs[j].path: ("out",) for j in draw(st.sets(st.integers(0, i - 1), max_size=2))} if i else {}
        outs = draw(st.sets(st.sampled_from(["out", "dev", "man", "bin"]), min_size=1, max_size=3))
        drvs.append(
            Derivation(
                path=path,
                name=name,
                system=draw(st.sampled_from(["x86_64-linux", "aarch64-darwin", "builtin"])),
                outputs={o: f"{S}{i:031d}{o[0]}-{name}{'' if o == 'out' else '-' + o}" for o in sorted(outs)},
                fixed_output=draw(st.booleans()),
                required_system_features=tuple(draw(st.lists(names, max_size=2))),
                inputs=inputs,
                input_sources=tuple(
                    draw(st.lists(st.sampled_from([f"{S}{'5' * 32}-src", "/abs/é", "fixed:x"]), max_size=2))
                ),
            )
        )
    jobsets = draw(st.integers(1, 200))
    jobs = [
        Job(
            attr=f"{draw(names)}.{k}",
            system=drvs[k % n].system,
            jobset=f"js{k % jobsets}",
            drv_path=drvs[k % n].path,
            name=drvs[k % n].name,
            outputs=dict(drvs[k % n].outputs),
            position=draw(st.none() | names),
            maintainers=tuple(draw(st.lists(names, max_size=2))),
        )
        for k in range(draw(st.integers(0, 250)))
    ]
    errors = [EvalError(draw(names), draw(names), "nixos") for _ in range(draw(st.integers(0, 2)))]
    return DerivationGraph.from_records(drvs, jobs, errors, origin="fuzz")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_snapshot_import_round_trips(graph: DerivationGraph) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "g.impact"
        write_compact(graph, target)
        back = read_compact(target)
        assert back.same_as(graph)
        assert back.job_jobsets == graph.job_jobsets and back.job_attrs == graph.job_attrs
        assert back.job_maintainers == graph.job_maintainers and back.job_positions == graph.job_positions
        assert back.source_paths == graph.source_paths and back.eval_errors == graph.eval_errors
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["g.impact"]


@pytest.fixture(scope="module")
def good_impact(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    drvs = parse_derivations(sample_derivations())
    jobs, errors = parse_job_lines([json.dumps(sample_job())])
    path = tmp_path_factory.mktemp("impact") / "g.impact"
    # Version 1 (a zip of arrays): the forged-array test rewrites its members; version 2 has its own byte-flip
    # fuzzing in tests/test_compact.py.
    write_compact_v1(DerivationGraph.from_records(drvs, jobs, errors), path)
    return path.read_bytes()


@FAST
@given(st.lists(st.tuples(st.integers(0, 10**7), st.integers(1, 255)), min_size=1, max_size=8))
def test_compact_flipped_bytes(good_impact: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(good_impact)
    for at, mask in flips:
        data[at % len(data)] ^= mask
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.impact"
        path.write_bytes(bytes(data))
        refuses_or_loads(lambda: read_compact(path))


ARRAY_KEYS = ["job_jobset_ids", "job_drv", "input_indices", "input_indptr", "source_indices", "system_ids",
              "output_set_ids", "job_system_ids", "input_output_set", "source_indptr"]  # fmt: skip


@FAST
@given(
    st.sampled_from(ARRAY_KEYS),
    st.lists(st.integers(-(2**31), 2**31 - 1), max_size=4),
    st.sampled_from(["int8", "int32", "int64", "float64", "uint8"]),
)
def test_compact_forged_arrays(good_impact: bytes, key: str, values: list[int], dtype: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "g.impact"
        src.write_bytes(good_impact)
        with np.load(src) as z:
            arrays = {k: z[k] for k in z.files}
        arrays[key] = np.array(values).astype(dtype)
        bad = Path(tmp) / "b.impact"
        with bad.open("wb") as f:
            np.savez_compressed(f, **arrays)
        graph = refuses_or_loads(lambda: read_compact(bad))
        if graph is not None:  # accepted: then it is whole, every index in range
            assert len(graph.job_drv) == graph.job_count and all(0 <= d < len(graph) for d in graph.job_drv.tolist())


# -- cycles: found exactly when there is one ---------------------------------------------------------------------------


@FAST
@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(st.just(n), st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=12))
    )
)
def test_a_cycle_is_found_exactly_when_there_is_one(graph_spec: tuple[int, set[tuple[int, int]]]) -> None:
    n, edges = graph_spec
    paths = [f"{S}{i:032d}-d{i}.drv" for i in range(n)]
    drvs = [
        Derivation(path=paths[i], name=f"d{i}", system="x", outputs={"out": f"{S}{i:032d}-d{i}"},
                   inputs={paths[j]: ("out",) for (k, j) in edges if k == i})
        for i in range(n)
    ]  # fmt: skip
    graph = DerivationGraph.from_records(drvs)
    cycle = find_cycle(graph)
    reference = nx.DiGraph([(j, i) for (i, j) in edges])
    reference.add_nodes_from(range(n))
    assert (cycle is None) == nx.is_directed_acyclic_graph(reference)
    if cycle is not None:  # each is an input of the next, and the last of the first
        for a, b in zip(cycle, cycle[1:] + cycle[:1]):
            assert (b, a) in edges
