"""Mutation fuzzing of version-2 snapshots: 2,000 damaged or forged files, each refused with one line or proven
harmless, never a traceback.

A seeded mutator (so every run, and every failure, is reproducible by its number) damages a small real
snapshot (the closure of a few packages of nixpkgs 2016, in two jobsets, with every stored table) in the
ways a file breaks or is made to lie:
- *damage*: bytes flipped anywhere or in the header, a header value changed, an array value overwritten, the
  file cut short. The file's checksums no longer hold, so each must be refused (or be the same graph: a flip
  in the padding between arrays changes nothing).
- *forgery*: a header value or an array value changed and the checksums made to match, as someone crafting
  a file would. Each must be refused, or load to a graph whose lookups agree with its arrays, whose stored
  tables pass their checks, and on which the analyses answer without a traceback.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import random
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from impact.analysis.change import resolve_change
from impact.analysis.diff import diff_snapshots
from impact.analysis.pr import pr_report
from impact.analysis.rebuild import estimate
from impact.analysis.tables import prepare
from impact.errors import ImpactError
from impact.loaders import compact_v2, load_snapshot
from impact.model import DerivationGraph

#: Mutations per run, and the seed of the first.
MUTATIONS = 2000
SEED = 21
#: Packages whose jobs (and their closure) make the fuzzed snapshot.
PACKAGES = ("hello", "zlib", "gnused", "which", "patchelf")
MAGIC_END = 24


def small_graph() -> DerivationGraph:
    """The closure of a few packages' jobs of the 2016 snapshot; the darwin jobs moved to a second jobset."""
    source = load_snapshot("master-2016-06-24")
    jobs = [k for k, a in enumerate(source.job_attrs) if a.split(".")[0] in PACKAGES]
    rows: set[int] = set()
    stack = [int(source.job_drv[k]) for k in jobs]
    while stack:
        i = stack.pop()
        if i not in rows:
            rows.add(i)
            stack += [j for j, _ in source.inputs_of(i)]
    records = [source.job(k) for k in range(source.job_count) if int(source.job_drv[k]) in rows]
    for n, job in enumerate(records):
        if job.system.endswith("-darwin") or n % 7 == 0:
            records[n] = dataclasses.replace(job, jobset="other")
    graph = DerivationGraph.from_records([source.derivation(i) for i in sorted(rows)], records, origin="fuzz")
    graph.meta["label"] = "fuzz"
    return prepare(graph)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[DerivationGraph, bytes]:
    path = tmp_path_factory.mktemp("v2") / "small.impact"
    graph = small_graph()
    compact_v2.write(graph, path)
    return load_snapshot(path), path.read_bytes()


def _split(raw: bytes) -> tuple[dict, int]:
    length = int.from_bytes(raw[16:MAGIC_END], "little")
    return json.loads(raw[MAGIC_END : MAGIC_END + length]), -(-(MAGIC_END + length) // 64) * 64


def _join(raw: bytes, header: dict, reseal: bool) -> bytes:
    """`raw` with `header` in place of its own (arrays unmoved); with `reseal`, every checksum made to match."""
    _, start = _split(raw)
    body = raw[start:]
    if reseal:
        for name, (offset, dtype, count) in header.get("arrays", {}).items():
            if isinstance(offset, int) and isinstance(count, int) and isinstance(dtype, str):
                try:
                    size = np.dtype(dtype).itemsize * count
                except TypeError:
                    continue
                header.setdefault("checksums", {})[name] = zlib.crc32(body[offset : offset + size])
        header.pop("header_crc32", None)
        header["header_crc32"] = "00000000"
    head = json.dumps(header).encode()
    if reseal:  # as a forger would: the header's CRC-32 over its text with the field's value zeroed
        head = head[: -len('00000000"}')] + b"%08x" % zlib.crc32(head) + b'"}'
        assert head.endswith(b'"}') and b'"header_crc32": "' in head[-40:]
    new_start = -(-(MAGIC_END + len(head)) // 64) * 64
    return raw[:16] + len(head).to_bytes(8, "little") + head + b"\0" * (new_start - MAGIC_END - len(head)) + body


def _edit_header(header: dict, rng: random.Random) -> str:
    """Change one value of the header in a way a damaged or crafted file would; returns what it did."""
    key = rng.choice(sorted(k for k in header if k != "header_crc32"))
    value = header[key]
    if key in ("arrays", "checksums", "tables", "features") and value:
        inner = rng.choice(sorted(value))
        choice = rng.randrange(4)
        if choice == 0:
            del value[inner]
        elif key == "arrays":
            spec = list(value[inner])
            spec[rng.randrange(3)] = rng.choice([0, -1, 1, 64, spec[2] + 1, max(spec[2] - 1, 0), "<i8", "|u1", 10**12])
            value[inner] = spec
        else:
            value[inner] = rng.choice([0, -1, 5, None, [], ["kvm"], "x", 10**12])
        return f"{key}.{inner}"
    if isinstance(value, list) and value:
        i, j = rng.randrange(len(value)), rng.randrange(len(value))
        choice = rng.randrange(4)
        if choice == 0:
            value.insert(i, value[i])
        elif choice == 1:
            value[i], value[j] = value[j], value[i]
        elif choice == 2:
            del value[i]
        else:
            value[i] = rng.choice([None, 5, "", "x86_64-linux", ["out"], [1, "a"]])
        return f"{key}[{i}]"
    if isinstance(value, int) and not isinstance(value, bool):
        header[key] = value + rng.choice([-1, 1, -value, 1 << 20, -(1 << 40)])
    elif isinstance(value, dict):
        header[key] = rng.choice([[], None, {"x": 1}])
    else:
        header[key] = rng.choice([None, 5, "", [], {}])
    return key


def _edit_array(raw: bytes, header: dict, rng: random.Random) -> tuple[bytes, str]:
    """Overwrite one value of one array (a boundary value, or another row's) in place."""
    name = rng.choice(sorted(header["arrays"]))
    offset, dtype, count = header["arrays"][name]
    _, start = _split(raw)
    if count == 0:
        return raw, name
    size = np.dtype(dtype).itemsize
    at = rng.randrange(count)
    here = np.frombuffer(raw, dtype=np.dtype(dtype), count=count, offset=start + offset)
    value = rng.choice([0, 1, -1, count - 1, count, 2**31 - 1, int(here[rng.randrange(count)]), int(here[at]) + 1])
    data = np.array([value]).astype(np.dtype(dtype)).tobytes()
    begin = start + offset + at * size
    return raw[:begin] + data + raw[begin + size :], f"{name}[{at}]"


def mutations(raw: bytes, seed: int, count: int) -> Iterator[tuple[str, bool, bytes]]:
    """`count` mutated copies of `raw`: (what was done, whether it was forged to pass the checksums, bytes)."""
    rng = random.Random(seed)
    header, start = _split(raw)
    for n in range(count):
        kind = rng.choice(["flip", "flip-header", "header", "array", "truncate", "forge-header", "forge-array"])
        data = bytearray(raw)
        what = kind
        if kind == "flip":
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] ^= rng.randint(1, 255)
        elif kind == "flip-header":
            data[rng.randrange(MAGIC_END, start)] ^= rng.randint(1, 255)
        elif kind == "truncate":
            del data[rng.randrange(len(data)) :]
        elif kind in ("header", "forge-header"):
            edited = json.loads(json.dumps(header))
            what += ":" + _edit_header(edited, rng)
            data = bytearray(_join(raw, edited, reseal=kind == "forge-header"))
        else:
            changed, where = _edit_array(raw, header, rng)
            what += ":" + where
            data = bytearray(
                _join(changed, json.loads(json.dumps(header)), reseal=True) if kind == "forge-array" else changed
            )
        yield f"#{n} {what}", kind.startswith("forge"), bytes(data)


def answer(graph: DerivationGraph, original: DerivationGraph) -> None:
    """What commands do with a snapshot: read every string and table, look things up, estimate, diff, report."""
    list(graph.drv_paths), list(graph.names), list(graph.output_paths), list(graph.output_names)
    list(graph.job_attrs), list(graph.job_outputs), list(graph.job_maintainers), list(graph.job_positions)
    for key in compact_v2.TABLES:
        graph.derived(key, lambda g: None)
    for name in ("hello", "zlib"):
        if name in graph.job_packages:
            estimate(graph, resolve_change(graph, [name]))
    report = pr_report(original, graph, "impact pr a b")
    diff_snapshots(graph, original)
    assert report.diff is not None


def content(graph: DerivationGraph) -> tuple[object, ...]:
    """Everything a graph says, as plain values (read from its arrays, not through its lookups)."""
    return (
        list(graph.drv_paths), list(graph.names), list(graph.output_names), list(graph.output_paths),
        [graph.system_of(i) for i in range(len(graph))], graph.fixed_output.tolist(),
        graph.prefer_local_build.tolist(), dict(graph.features), graph.input_indptr.tolist(),
        graph.input_indices.tolist(), graph.input_output_set.tolist(), list(graph.output_sets),
        list(graph.source_paths), graph.source_indptr.tolist(), graph.source_indices.tolist(),
        list(graph.job_attrs), list(graph.job_jobsets), list(graph.job_systems), graph.job_drv.tolist(),
        list(graph.job_names), list(graph.job_outputs), list(graph.job_positions), list(graph.job_maintainers),
        graph.eval_errors, graph.meta,
    )  # fmt: skip


def harmless(graph: DerivationGraph, original: DerivationGraph, forged: bool) -> str | None:
    """Why the loaded `graph` is not harmless, or None: its lookups must agree with its own arrays, and a damaged
    (not forged) file that loads must hold the same graph as before the damage."""
    try:
        for i, path in enumerate(graph.drv_paths):
            if graph.index.get(path) != i:
                return f"derivation {i} is not found by its path"
        for k, key in enumerate(zip(graph.job_jobsets, graph.job_attrs)):
            if graph.job_index.get(key) != k:
                return f"job {k} is not found by its jobset and attribute"
            if k not in graph.jobs_with_attr(key[1]) or k not in graph.jobs_of_package(graph.job_packages[k]):
                return f"job {k} is not found by its attribute or package"
        if not forged and content(graph) != content(original):
            return "a damaged file was read as another graph"
    except Exception as e:
        return f"checking it raised {type(e).__name__}: {e}"
    return None


def test_the_fuzzed_snapshot_is_a_real_one(original: tuple[DerivationGraph, bytes]) -> None:
    """The mutator starts from a snapshot with something in every part the mutations hit."""
    graph, raw = original
    header, _ = _split(raw)
    assert len(graph) > 200 and graph.job_count > 30 and graph.edge_count > 1000
    assert set(graph.job_jobsets) == {"nixpkgs", "other"} and graph.fixed_output.any()
    assert set(compact_v2.TABLES) <= set(header["tables"]) | {"levels", "package_roots"}
    assert header["checksums"].keys() == header["arrays"].keys()
    assert harmless(graph, graph, forged=False) is None and harmless(graph, graph, forged=True) is None
    assert content(graph) == content(small_graph())
    answer(graph, graph)


def test_mutated_v2_snapshots_are_refused_or_harmless(
    original: tuple[DerivationGraph, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph, raw = original
    outcomes: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    path = tmp_path / "m.impact"
    for what, forged, data in mutations(raw, SEED, MUTATIONS):
        path.write_bytes(data)
        kind = "forged" if forged else "damaged"
        try:
            loaded = load_snapshot(path)
            answer(loaded, graph)
        except ImpactError as e:
            if "\n" in str(e) or not str(e):
                problems.append(f"{what}: refused, but not in one line: {e!r}")
            outcomes[f"{kind}: refused"] += 1
            continue
        except Exception as e:
            problems.append(f"{what}: {type(e).__name__}: {e}"[:300])
            outcomes[f"{kind}: traceback"] += 1
            continue
        why = harmless(loaded, graph, forged)
        if why is not None:
            problems.append(f"{what}: loaded, but {why}")
        outcomes[f"{kind}: loaded, harmless" if why is None else f"{kind}: loaded, NOT harmless"] += 1
    with capsys.disabled():
        print(f"\n{MUTATIONS} mutations (seed {SEED}): " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    assert sum(outcomes.values()) == MUTATIONS >= 2000
    assert not problems, f"{len(problems)} of {MUTATIONS}:\n" + "\n".join(problems[:30])
    # The mutator reaches both families and both outcomes.
    assert outcomes["damaged: refused"] > 1000 and outcomes["forged: refused"] > 100
    assert outcomes["forged: loaded, harmless"] > 50
