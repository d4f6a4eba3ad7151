"""Synthetic nixpkgs-shaped derivation graphs, for benchmarks only (not shipped in the package).

The shape follows what the 2016 master snapshot shows (numbers measured with `measure(graph)` below):

- 47 % of derivations are fixed-output (fetchurl and friends); nearly every package takes about one as its
  `src`, and each fetch takes the fetch tools (curl, stdenv) as inputs, edges a change never crosses;
- inputs per package are drawn from the master snapshot's own distribution (median 7, p99 ~70), one of them
  stdenv for nearly every package;
- fan-out is heavy-tailed: a short bootstrap chain ends in stdenv, a few hundred core packages follow, and
  the other inputs are drawn towards earlier (lower, more central) packages, `j = floor(i * u**alpha)`;
- 4 % of packages have several outputs (`dev`, `bin`, `man`, …) and consumers take one of them;
- four systems (two Linux, two Darwin) with the same package set, as nixpkgs evaluates one expression per
  system; jobs on 57 % of the packages on Linux and a third of them on Darwin; a `nixos` jobset of VM tests
  on x86_64-linux, a few of which take the `nixos-…` derivation that embeds the nixpkgs source tree.

Everything is generated with numpy in a few seconds at 1,000,000 derivations; `build(n)` returns a
`DerivationGraph` as the loaders do.
"""

from __future__ import annotations

import numpy as np

from impact.model import DerivationGraph

SYSTEMS = ("x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin")
#: Share of fixed-output derivations (master 2016: 24,011 of 50,775).
FIXED_SHARE = 0.47
#: Inputs of non-fixed-output derivations in master 2016, as (count, how many derivations): a coarse histogram.
INPUT_COUNTS = {
    1: 4,
    2: 8,
    3: 13,
    4: 12,
    5: 12,
    6: 11,
    7: 9,
    8: 7,
    10: 10,
    13: 5,
    16: 3,
    24: 2,
    40: 1.5,
    70: 1.2,
    110: 0.4,
}
#: How strongly inputs lean towards early (central) packages; tuned so fan-out quantiles resemble master's.
ALPHA = 4.0
BOOTSTRAP = 25
CORE = 300
MULTI_OUTPUT_SHARE = 0.1
JOB_SHARE = 0.57
DARWIN_JOB_SHARE = 0.33
NIXOS_TESTS = 200
#: Well-known names given to a few packages so that `impact estimate NAME` reads naturally.
NAMED = {"stdenv": BOOTSTRAP - 1, "curl": BOOTSTRAP + 5, "openssl": BOOTSTRAP + 12, "perl": BOOTSTRAP + 2}
_OUTPUT_SETS: list[tuple[str, ...]] = [("out",), ("dev", "out"), ("bin", "dev", "out"), ("bin", "dev", "man", "out")]
_ALPHABET = np.frombuffer(b"0123456789abcdfghijklmnpqrsvwxyz", dtype=np.uint8)


def _hashes(rng: np.random.Generator, count: int) -> list[str]:
    text = _ALPHABET[rng.integers(0, 32, size=count * 32, dtype=np.uint8)].tobytes().decode("ascii")
    return [text[k : k + 32] for k in range(0, count * 32, 32)]


def _one_system(rng: np.random.Generator, m: int) -> dict[str, np.ndarray]:
    """The structure of one system's derivations: rows [bootstrap][core][fixed-output][packages]."""
    fixed_count = int(m * FIXED_SHARE)
    first_fixed = BOOTSTRAP + CORE
    first_package = first_fixed + fixed_count
    fixed = np.zeros(m, dtype=bool)
    fixed[first_fixed:first_package] = True
    package_rows = np.concatenate([np.arange(first_fixed), np.arange(first_package, m)])
    consumers: list[np.ndarray] = []
    inputs: list[np.ndarray] = []
    # Bootstrap chain: each stage takes the one or two before it.
    for i in range(1, BOOTSTRAP):
        for j in {i - 1, max(0, i - 2)}:
            consumers.append(np.array([i]))
            inputs.append(np.array([j]))
    # Every fixed-output fetch takes curl, stdenv and two bootstrap tools (edges a change does not cross).
    fetch = np.arange(first_fixed, first_package)
    for tool in (NAMED["curl"], NAMED["stdenv"], 3, 7):
        consumers.append(fetch)
        inputs.append(np.full(fetch.size, tool))
    # Packages after the bootstrap: stdenv, a source, and inputs drawn towards earlier packages.
    later = package_rows[BOOTSTRAP:]
    position = np.arange(BOOTSTRAP, package_rows.size)
    counts, weights = zip(*INPUT_COUNTS.items())
    p = np.array(weights) / sum(weights)
    degree = rng.choice(np.array(counts), size=later.size, p=p)
    degree = np.maximum(degree + rng.integers(-1, 2, size=later.size), 1)
    consumers.append(later)
    inputs.append(np.full(later.size, NAMED["stdenv"]))
    src_owner = later[later >= first_package]
    own = np.arange(first_fixed, first_fixed + min(fixed_count, src_owner.size))
    consumers.append(src_owner[: own.size])
    inputs.append(own)
    extra = rng.random(src_owner.size) < 0.1
    consumers.append(src_owner[extra])
    inputs.append(rng.integers(first_fixed, first_package, size=int(extra.sum())))
    other = np.maximum(degree - 2, 0)
    who = np.repeat(np.arange(later.size), other)
    u = rng.random(who.size)
    target_position = np.floor(position[who] * u**ALPHA).astype(np.int64)
    target_position = np.minimum(target_position, position[who] - 1)
    consumers.append(later[who])
    inputs.append(package_rows[target_position])
    consumer = np.concatenate(consumers).astype(np.int64)
    source = np.concatenate(inputs).astype(np.int64)
    pairs = np.unique(consumer * m + source)
    consumer, source = pairs // m, pairs % m
    output_set = np.zeros(m, dtype=np.int64)
    multi = rng.random(m) < MULTI_OUTPUT_SHARE
    multi[fixed] = False
    output_set[multi] = rng.integers(1, len(_OUTPUT_SETS), size=int(multi.sum()))
    return {
        "fixed": fixed,
        "consumer": consumer,
        "input": source,
        "output_set": output_set,
        "package_rows": package_rows,
    }


def build(n: int = 1_000_000, seed: int = 1) -> DerivationGraph:
    """A nixpkgs-shaped graph of about `n` derivations over four systems, with nixpkgs and nixos jobs."""
    rng = np.random.default_rng(seed)
    m = n // len(SYSTEMS)
    shape = _one_system(rng, m)
    k = len(SYSTEMS)
    nixos_extra = 1 + NIXOS_TESTS
    total = m * k + nixos_extra
    offsets = np.arange(k, dtype=np.int64) * m
    consumer = np.concatenate([shape["consumer"] + o for o in offsets])
    source = np.concatenate([shape["input"] + o for o in offsets])
    # NixOS: one derivation embedding the nixpkgs tree, then VM tests on x86_64-linux packages.
    tree_row = m * k
    tests = tree_row + 1 + np.arange(NIXOS_TESTS)
    linux_packages = shape["package_rows"][BOOTSTRAP + CORE :]
    picks = rng.choice(linux_packages, size=(NIXOS_TESTS, 30))
    t_cons = [np.repeat(tests, 30), np.array([tree_row]), tests[::8]]
    t_inp = [picks.ravel(), np.array([NAMED["stdenv"]]), np.full(tests[::8].size, tree_row)]
    consumer = np.concatenate([consumer, *t_cons])
    source = np.concatenate([source, *t_inp])
    order = np.lexsort((source, consumer))
    consumer, source = consumer[order], source[order]
    indptr = np.zeros(total + 1, dtype=np.int64)
    np.cumsum(np.bincount(consumer, minlength=total), out=indptr[1:])
    fixed = np.concatenate([np.tile(shape["fixed"], k), np.zeros(nixos_extra, dtype=bool)])
    out_set = np.concatenate([np.tile(shape["output_set"], k), np.zeros(nixos_extra, dtype=np.int64)])
    system_ids = np.concatenate([np.repeat(np.arange(k, dtype=np.int16), m), np.zeros(nixos_extra, dtype=np.int16)])
    # Consumers take `dev` from a multi-output input half the time, else `out`.
    edge_set = np.where((out_set[source] > 0) & (rng.random(source.size) < 0.5), 1, 0).astype(np.int32)

    local = np.arange(m)
    package_names = np.array([f"pkg{i}" for i in range(m)], dtype=object)
    for name, row in NAMED.items():
        package_names[row] = name
    package_names[shape["package_rows"][BOOTSTRAP + CORE + (m // 3)]] = "qemu"
    is_fixed = shape["fixed"]
    base_names = [f"{p}-src-1.0.tar.gz" if f else f"{p}-1.0" for p, f in zip(package_names.tolist(), is_fixed.tolist())]
    names = base_names * k + ["nixos-24.05pre-git"] + [f"nixos-test-t{i}" for i in range(NIXOS_TESTS)]
    drv_hashes = _hashes(rng, total)
    drv_paths = [f"/nix/store/{h}-{name}.drv" for h, name in zip(drv_hashes, names)]
    output_names = [_OUTPUT_SETS[s] for s in out_set.tolist()]
    # A fetch has the same output path on every system (same URL, same hash): one hash per source.
    fixed_hash = _hashes(rng, m)
    out_hashes = _hashes(rng, int(sum(len(o) for o in output_names)))
    output_paths = []
    h = 0
    for row, (name, outs) in enumerate(zip(names, output_names)):
        if row < m * k and is_fixed[row % m]:
            output_paths.append((f"/nix/store/{fixed_hash[row % m]}-{name}",))
            continue
        output_paths.append(
            tuple(f"/nix/store/{out_hashes[h + q]}-{name}{'' if o == 'out' else '-' + o}" for q, o in enumerate(outs))
        )
        h += len(outs)

    job_rows: list[np.ndarray] = []
    job_share = rng.random(m)
    candidates = local[~is_fixed & (local >= BOOTSTRAP - 1)]
    forced = np.isin(candidates, [*NAMED.values(), shape["package_rows"][BOOTSTRAP + CORE + (m // 3)]])
    for s, system in enumerate(SYSTEMS):
        share = JOB_SHARE if system.endswith("-linux") else JOB_SHARE * DARWIN_JOB_SHARE
        job_rows.append(candidates[(job_share[candidates] < share) | forced] + s * m)
    job_drv = np.concatenate([*job_rows, tests]).astype(np.int32)
    job_attrs, job_systems, job_jobsets = [], [], []
    for s, rows in enumerate(job_rows):
        job_attrs += [f"{package_names[r % m]}.{SYSTEMS[s]}" for r in rows.tolist()]
        job_systems += [SYSTEMS[s]] * rows.size
        job_jobsets += ["nixpkgs"] * rows.size
    job_attrs += [f"tests.t{i}.x86_64-linux" for i in range(NIXOS_TESTS)]
    job_systems += ["x86_64-linux"] * NIXOS_TESTS
    job_jobsets += ["nixos"] * NIXOS_TESTS
    jobs = len(job_attrs)
    tree_path = f"/nix/store/{_hashes(rng, 1)[0]}-nixpkgs"
    source_indptr = np.zeros(total + 1, dtype=np.int64)
    source_indptr[tree_row + 1 :] = 1
    return DerivationGraph(
        drv_paths=drv_paths,
        names=names,
        systems=list(SYSTEMS),
        system_ids=system_ids,
        fixed_output=fixed,
        output_names=output_names,
        output_paths=output_paths,
        features={int(t): ("kvm", "nixos-test") for t in tests.tolist()},
        input_indptr=indptr,
        input_indices=source.astype(np.int32),
        input_output_set=edge_set,
        output_sets=[("out",), ("dev",)],
        source_paths=[tree_path],
        source_indptr=source_indptr,
        source_indices=np.zeros(1, dtype=np.int32),
        job_attrs=job_attrs,
        job_jobsets=job_jobsets,
        job_systems=job_systems,
        job_drv=job_drv,
        job_names=[names[r] for r in job_drv.tolist()],
        job_outputs=[{} for _ in range(jobs)],
        job_positions=[None] * jobs,
        job_maintainers=[()] * jobs,
        origin=f"synthetic:{n}",
        meta={"label": f"synthetic nixpkgs-shaped graph, {total:,} derivations (seed {seed})"},
    )


def measure(graph: DerivationGraph) -> dict[str, object]:
    """The shape figures the generator is tuned on: fixed-output share, fan-in and fan-out quantiles."""
    fixed = graph.fixed_output
    fan_in = np.diff(graph.input_indptr)[~fixed]
    fan_out = np.bincount(graph.input_indices, minlength=len(graph))[~fixed]
    quantiles = [50, 90, 99, 99.9]
    return {
        "derivations": len(graph),
        "edges per derivation": round(graph.edge_count / len(graph), 2),
        "fixed-output share": round(float(fixed.mean()), 3),
        "fan-in p50/p90/p99/p99.9": [int(x) for x in np.percentile(fan_in, quantiles)],
        "fan-out p50/p90/p99/p99.9": [int(x) for x in np.percentile(fan_out, quantiles)],
        "largest fan-out / derivations": round(float(fan_out.max()) / len(graph), 3),
        "multi-output share": round(float(np.mean([len(o) > 1 for o in graph.output_names])), 3),
        "jobs": graph.job_count,
    }
