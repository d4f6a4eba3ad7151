"""The compact snapshot holds exactly what it was made from."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impact.analysis.change import resolve_change, source_keys, source_tree_rows
from impact.analysis.rebuild import estimate
from impact.analysis.tables import prepare
from impact.errors import ImpactError, InputError
from impact.loaders import compact_v2, load_snapshot
from impact.loaders.compact import MAGIC, read_compact, write_compact, write_compact_v1
from impact.model import DerivationGraph, consumer_csr, job_order, propagation_csr


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


# -- version 2: memory-mapped, stored tables, lazy strings --------------------------------------------------


@pytest.fixture(scope="module")
def v2_file(master_graph: DerivationGraph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("v2") / "master.impact"
    write_compact(prepare(master_graph), target)
    return target


def _fresh_tables(graph: DerivationGraph) -> dict[str, object]:
    """Every stored table rebuilt from the graph's base arrays alone."""
    bare = DerivationGraph(
        **{k: getattr(graph, k) for k in ("drv_paths", "names", "systems", "system_ids", "fixed_output")},
        prefer_local_build=graph.prefer_local_build,
        output_names=list(graph.output_names),
        output_paths=list(graph.output_paths),
        features=graph.features,
        input_indptr=graph.input_indptr,
        input_indices=graph.input_indices,
        input_output_set=graph.input_output_set,
        output_sets=graph.output_sets,
        source_paths=list(graph.source_paths),
        source_indptr=graph.source_indptr,
        source_indices=graph.source_indices,
        job_attrs=list(graph.job_attrs),
        job_jobsets=list(graph.job_jobsets),
        job_systems=list(graph.job_systems),
        job_drv=graph.job_drv,
        job_names=list(graph.job_names),
        job_outputs=list(graph.job_outputs),
        job_positions=list(graph.job_positions),
        job_maintainers=list(graph.job_maintainers),
    )
    return {
        "consumers": consumer_csr(bare),
        "propagation": propagation_csr(bare),
        "job_order": job_order(bare),
        "source_keys": source_keys(bare),
        "source_tree": source_tree_rows(bare),
    }


def test_v2_opens_without_parsing_and_holds_the_same_graph(master_graph: DerivationGraph, v2_file: Path) -> None:
    assert v2_file.read_bytes()[: len(MAGIC)] == MAGIC
    graph = read_compact(v2_file)
    # Nothing decoded yet: strings are columns over the mapped file, arrays are views of it.
    assert type(graph.drv_paths).__name__ == "LazyColumn" and graph.drv_paths._values is None  # type: ignore[attr-defined]
    assert isinstance(graph.input_indices.base, (memoryview, bytes)) or graph.input_indices.base is not None
    assert not graph.input_indices.flags.writeable
    assert graph.same_as(master_graph)
    assert graph.meta == master_graph.meta and graph.eval_errors == master_graph.eval_errors


def test_v2_stored_tables_equal_tables_built_from_scratch(v2_file: Path) -> None:
    graph = read_compact(v2_file)
    stored = json.loads(v2_file.read_bytes()[24 : 24 + int.from_bytes(v2_file.read_bytes()[16:24], "little")])
    assert set(stored["tables"]) == set(compact_v2.TABLES)
    for key, fresh in _fresh_tables(graph).items():
        got = graph.derived(key, lambda g: None)
        for a, b in zip(got if isinstance(got, tuple) else (got,), fresh if isinstance(fresh, tuple) else (fresh,)):
            assert np.array_equal(a, b), key


def test_v2_lookups_answer_like_dicts(master_graph: DerivationGraph, v2_file: Path) -> None:
    graph = read_compact(v2_file)
    assert type(graph.index).__name__ == "_HashIndex"
    rows = list(range(0, len(master_graph), 97))
    assert all(graph.index[master_graph.drv_paths[i]] == i for i in rows)
    missing = master_graph.drv_paths[0][:-5] + "x.drv"
    assert graph.index.get(missing) is None and missing not in graph.index
    assert graph.index.get("/nix/store/short.drv") is None
    for k in range(0, master_graph.job_count, 53):
        key = (master_graph.job_jobsets[k], master_graph.job_attrs[k])
        assert graph.job_index[key] == master_graph.job_index[key]
        package = master_graph.job_packages[k]
        assert graph.jobs_of_package(package) == master_graph.jobs_of_package(package)
        assert graph.jobs_with_attr(key[1]) == master_graph.jobs_with_attr(key[1])
    assert graph.job_index.get(("nixpkgs", "no-such-attr")) is None
    assert graph.jobs_of_package("no-such-package") == []


@pytest.mark.parametrize("name", ["qemu", "curl", "glibc", "firefox"])
def test_v2_estimates_equal_version_1(master_graph: DerivationGraph, v2_file: Path, name: str) -> None:
    graph = read_compact(v2_file)
    want = estimate(master_graph, resolve_change(master_graph, [name]))
    got = estimate(graph, resolve_change(graph, [name]))
    assert got.to_dict() == want.to_dict()
    assert want.derivations_to_build > 0


def test_version_1_is_read_through_a_version_2_copy(
    master_graph: DerivationGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    old = tmp_path / "old.impact"
    write_compact_v1(master_graph, old)
    first = load_snapshot(old)
    copies = list((tmp_path / "cache" / "snapshots").glob("*.impact"))
    assert len(copies) == 1 and copies[0].read_bytes()[: len(MAGIC)] == MAGIC
    second = load_snapshot(old)
    assert first.same_as(master_graph) and second.same_as(master_graph)
    assert second.origin == str(old)
    copies[0].write_bytes(b"impact-snapshot\n" + b"\xff" * 40)  # a damaged copy is made again
    assert load_snapshot(old).same_as(master_graph)
    assert len(list((tmp_path / "cache" / "snapshots").glob("*.impact"))) == 1


def test_version_1_without_a_writable_cache_still_loads(
    master_graph: DerivationGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("IMPACT_CACHE_DIR", str(blocker / "cache"))
    old = tmp_path / "old.impact"
    write_compact_v1(master_graph, old)
    assert load_snapshot(old).same_as(master_graph)


# -- hostile files: one InputError, never a crash or an out-of-range read -------------------------------------


def _header_and_body(path: Path) -> tuple[dict, bytes, int]:
    raw = path.read_bytes()
    length = int.from_bytes(raw[16:24], "little")
    return json.loads(raw[24 : 24 + length]), raw, 24 + length


def _with_header(raw: bytes, end: int, header: dict) -> bytes:
    """The file with its header replaced (arrays stay where they were: offsets count from the aligned start)."""
    head = json.dumps(header).encode()
    start_old = -(-end // 64) * 64
    start_new = -(-(24 + len(head)) // 64) * 64
    return MAGIC + len(head).to_bytes(8, "little") + head + b"\0" * (start_new - 24 - len(head)) + raw[start_old:]


def _patch_array(raw: bytes, header: dict, end: int, name: str, values: np.ndarray, at: int = 0) -> bytes:
    offset, dtype, _ = header["arrays"][name]
    start = -(-end // 64) * 64 + offset + at * np.dtype(dtype).itemsize
    data = np.asarray(values, dtype=np.dtype(dtype)).tobytes()
    return raw[:start] + data + raw[start + len(data) :]


def _load_and_answer(path: Path) -> None:
    graph = load_snapshot(path)
    estimate(graph, resolve_change(graph, ["qemu"]))
    graph.derivation(len(graph) - 1)


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "header-length",
        "header-json",
        "version",
        "dtype",
        "offset",
        "count",
        "input-index",
        "indptr-back",
        "propagation-index",
        "consumers-index",
        "source-keys",
        "job-drv",
        "blob-offsets",
        "exceptions-order",
        "output-set",
        "features",
    ],
)
def test_a_damaged_v2_file_gives_one_input_error(v2_file: Path, tmp_path: Path, damage: str) -> None:
    header, raw, end = _header_and_body(v2_file)
    arrays = header["arrays"]
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "header-length":
        raw = raw[:16] + (len(raw) * 2).to_bytes(8, "little") + raw[24:]
    elif damage == "header-json":
        raw = raw[:24] + b"}" + raw[25:]
    elif damage == "version":
        raw = _with_header(raw, end, {**header, "version": 99})
    elif damage == "dtype":
        raw = _with_header(
            raw,
            end,
            {
                **header,
                "arrays": {
                    **arrays,
                    "input_indices": [*arrays["input_indices"][:1], "<i8", arrays["input_indices"][2]],
                },
            },
        )
    elif damage == "offset":
        raw = _with_header(
            raw, end, {**header, "arrays": {**arrays, "job_drv": [len(raw) * 4, *arrays["job_drv"][1:]]}}
        )
    elif damage == "count":
        raw = _with_header(raw, end, {**header, "edges": header["edges"] + 1})
    elif damage == "input-index":
        raw = _patch_array(raw, header, end, "input_indices", [header["derivations"] + 5], at=3)
    elif damage == "indptr-back":
        raw = _patch_array(raw, header, end, "input_indptr", [10**9, 0], at=5)
    elif damage == "propagation-index":
        raw = _patch_array(raw, header, end, "table.propagation.1", [-1], at=0)
    elif damage == "consumers-index":
        raw = _patch_array(raw, header, end, "table.consumers.1", [10**8], at=7)
    elif damage == "source-keys":
        raw = _patch_array(raw, header, end, "table.source_keys.4", [10**8], at=1)
    elif damage == "job-drv":
        raw = _patch_array(raw, header, end, "job_drv", [-3], at=2)
    elif damage == "blob-offsets":
        raw = _patch_array(raw, header, end, "names.offsets", [10**12], at=header["derivations"])
        raw = _patch_array(raw, header, end, "job_attrs.offsets", [10**12], at=1)
    elif damage == "exceptions-order":
        raw = (
            _patch_array(raw, header, end, "job_output_rows", [10**9], at=0)
            if arrays["job_output_rows"][2]
            else raw[:100]
        )
    elif damage == "output-set":
        raw = _patch_array(raw, header, end, "output_set_ids", [400], at=1)
    elif damage == "features":
        raw = _with_header(raw, end, {**header, "features": {str(10**9): ["kvm"]}})
    path = tmp_path / "bad.impact"
    path.write_bytes(raw)
    assert _damage_seen(path)


def _damage_seen(path: Path) -> bool:
    """True when loading, answering, or reading every string and table of `path` raises an InputError."""
    try:
        _load_and_answer(path)
        graph = load_snapshot(path)
        list(graph.drv_paths), list(graph.job_attrs), list(graph.names), list(graph.output_paths)
        for key in compact_v2.TABLES:
            graph.derived(key, lambda g: None)
    except InputError:
        return True
    return False


def test_an_intact_v2_file_is_not_called_damaged(v2_file: Path) -> None:
    assert not _damage_seen(v2_file)


def test_a_damaged_v2_file_gives_one_line_and_exit_2(v2_file: Path, tmp_path: Path) -> None:
    header, raw, end = _header_and_body(v2_file)
    path = tmp_path / "bad.impact"
    path.write_bytes(_patch_array(raw, header, end, "input_indices", [header["derivations"] + 5], at=3))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from impact.cli import main; sys.exit(main())",
            "estimate",
            "qemu",
            "--snapshot",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "damaged impact snapshot" in done.stderr and "Traceback" not in done.stderr


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzzed_v2_files_load_or_fail_cleanly(v2_file: Path, tmp_path: Path, data: st.DataObject) -> None:
    raw = bytearray(v2_file.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        # Half the hits land in the header and the first arrays, where one byte changes the most.
        where = data.draw(st.one_of(st.integers(0, 1 << 16), st.integers(0, len(raw) - 1)))
        raw[where] = data.draw(st.integers(0, 255))
    path = tmp_path / "fuzz.impact"
    path.write_bytes(bytes(raw))
    with contextlib.suppress(ImpactError):
        _load_and_answer(path)


def test_snapshot_import_writes_version_2_or_the_compressed_version_1(
    v2_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    from impact.cli import main

    monkeypatch.setenv("IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    plain, small = tmp_path / "plain.impact", tmp_path / "small.impact"
    assert main(["snapshot", "import", str(v2_file), "-o", str(plain)]) == 0
    assert main(["snapshot", "import", str(v2_file), "-o", str(small), "--compressed"]) == 0
    assert plain.read_bytes()[: len(MAGIC)] == MAGIC and zipfile.is_zipfile(small)
    assert small.stat().st_size * 3 < plain.stat().st_size
    assert load_snapshot(small).same_as(load_snapshot(plain))


def test_a_changed_version_1_file_replaces_its_stale_copy(
    master_graph: DerivationGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.setenv("IMPACT_CACHE_DIR", str(tmp_path / "cache"))
    old = tmp_path / "old.impact"
    write_compact_v1(master_graph, old)
    load_snapshot(old)
    first = list((tmp_path / "cache" / "snapshots").glob("*.impact"))
    os.utime(old, ns=(1, 1))  # touched, not changed: the same copy (keyed by content)
    assert load_snapshot(old).same_as(master_graph)
    assert list((tmp_path / "cache" / "snapshots").glob("*.impact")) == first
    saved = dict(master_graph.meta)
    master_graph.meta["label"] = "changed"
    try:
        write_compact_v1(master_graph, old)  # the file changed: a new copy, and the stale one goes
    finally:
        master_graph.meta.clear()
        master_graph.meta.update(saved)
    assert load_snapshot(old).label == "changed"
    second = list((tmp_path / "cache" / "snapshots").glob("*.impact"))
    assert len(first) == len(second) == 1 and first != second
