"""`snapshot import` never writes what it cannot read back: adversarial names, paths and counts round-trip
through the compact format exactly, and a damaged or forged archive is refused on load."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from impact.errors import InputError
from impact.loaders.compact import read_compact, validate_arrays, write_compact
from impact.model import Derivation, DerivationGraph, EvalError, Job

S = "/nix/store/"
H = "0" * 32


def _graph(names: list[str], jobsets: int = 2, drv_paths: list[str] | None = None) -> DerivationGraph:
    drvs = []
    for i, name in enumerate(names):
        path = drv_paths[i] if drv_paths else f"{S}{i:032d}-{name}.drv"
        inputs = {drvs[-1].path: ("out",)} if drvs else {}
        drvs.append(
            Derivation(
                path=path,
                name=name,
                system="x86_64-linux",
                outputs={"dev": f"{S}{i:031x}é-{name}-dev", "out": f"{S}{i:032x}-{name}"},
                inputs=inputs,
                input_sources=(f"{S}{H}-src\n{i}", "/elsewhere/ü"),
            )
        )
    jobs = [
        Job(
            attr=f"{d.name}.{js}",
            system="x86_64-linux",
            jobset=f"js{js}",
            drv_path=d.path,
            name=d.name,
            outputs=dict(d.outputs),
            position="pkgs/a\nb.nix:1" if js == 0 else None,
            maintainers=("a\x1fb", "", "@alice") if js % 2 else (),
        )
        for d in drvs
        for js in range(jobsets)
    ]
    return DerivationGraph.from_records(drvs, jobs, [EvalError("bad\nattr", "boom\n", "js0")], origin="test")


ADVERSARIAL = [
    "plain",
    "with\nnewline",
    "back`tick|pipe",
    "non-ascii-ü-名前",
    "lone-\udc80-surrogate",
    "",
    "x" * 300,
    "</details>@bob",
]


def test_adversarial_names_round_trip(tmp_path: Path) -> None:
    graph = _graph(ADVERSARIAL)
    write_compact(graph, tmp_path / "a.impact")
    back = read_compact(tmp_path / "a.impact")
    assert back.same_as(graph)
    assert back.job_maintainers == graph.job_maintainers and back.job_positions == graph.job_positions
    assert back.eval_errors == graph.eval_errors and back.source_paths == graph.source_paths
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_short_and_odd_drv_paths_do_not_shift_later_hashes(tmp_path: Path) -> None:
    names = ["a", "b", "c", "d"]
    paths = [f"{S}abc-a.drv", f"{S}{'1' * 32}-b.drv", f"/other/store/{'2' * 32}-c.drv", f"{S}{'é' * 32}-d.drv"]
    graph = _graph(names, drv_paths=paths)
    write_compact(graph, tmp_path / "s.impact")
    back = read_compact(tmp_path / "s.impact")
    assert back.drv_paths == graph.drv_paths and back.same_as(graph)


def test_more_than_127_jobsets(tmp_path: Path) -> None:
    graph = _graph(["a", "b"], jobsets=300)
    write_compact(graph, tmp_path / "j.impact")
    back = read_compact(tmp_path / "j.impact")
    assert back.job_jobsets == graph.job_jobsets and len(set(back.job_jobsets)) == 300


def _tamper(src: Path, dst: Path, change: dict[str, np.ndarray | None], header: dict | None = None) -> Path:
    with np.load(src) as z:
        arrays = {k: z[k] for k in z.files}
    if header is not None:
        h = json.loads(arrays["header"].tobytes())
        h.update(header)
        arrays["header"] = np.frombuffer(json.dumps(h).encode(), dtype=np.uint8)
    for k, v in change.items():
        if v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    with dst.open("wb") as f:
        np.savez_compressed(f, **arrays)
    return dst


@pytest.mark.parametrize(
    "change, header, problem",
    [
        ({"job_jobset_ids": np.array([-1, 0, 0, 0], dtype=np.int8)}, None, "jobset id out of range"),
        ({"job_drv": np.array([0, 9, 0, 0], dtype=np.int32)}, None, "derivation id out of range"),
        ({"input_indices": np.array([5], dtype=np.int32)}, None, "input derivation id out of range"),
        ({"input_indptr": np.array([0, 1, 0], dtype=np.int64)}, None, "input_indptr"),
        ({"system_ids": np.array([0], dtype=np.int16)}, None, "system_ids has 1 entries"),
        ({"job_drv": np.array([0.5, 0, 0, 0])}, None, "job_drv is not integers"),
        ({"names": None}, None, "no names array"),
        ({}, {"derivations": "2"}, "header field derivations"),
        ({}, {"jobsets": [1, 2]}, "jobsets is not a list of strings"),
        ({}, {"exceptions": {"drv": {"99": "x"}, "out": {}}}, "exceptions"),
        ({}, {"version": 99}, "not an impact snapshot of version 1"),
        ({"input_indices": np.array([1], dtype=np.int32)}, None, "dependency cycle"),
    ],
)
def test_forged_archives_are_refused(tmp_path: Path, change: dict, header: dict | None, problem: str) -> None:
    good = tmp_path / "g.impact"
    write_compact(_graph(["a", "b"]), good)
    bad = _tamper(good, tmp_path / "bad.impact", change, header)
    with pytest.raises(InputError, match=problem):
        read_compact(bad)


def test_validate_arrays_is_callable_on_its_own(tmp_path: Path) -> None:
    good = tmp_path / "g.impact"
    write_compact(_graph(["a", "b"]), good)
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays["header"].tobytes())
    validate_arrays(header, arrays, "g")
    arrays["job_system_ids"] = np.array([0, 0, 0, 7], dtype=np.int16)
    with pytest.raises(InputError, match="system id out of range"):
        validate_arrays(header, arrays, "g")


def test_zip_bomb_member_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "g.impact"
    write_compact(_graph(["a", "b"]), good)
    with zipfile.ZipFile(good, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("pad.npy", b"\0" * (8 * 1024 * 1024))
    monkeypatch.setenv("IMPACT_MAX_INPUT_BYTES", str(4 * 1024 * 1024))
    with pytest.raises(InputError, match="past the limit"):
        read_compact(good)
