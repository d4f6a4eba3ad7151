"""The cost model: critical path and list scheduling on small graphs worked out by hand, the default model's
rules on real derivations, and bounds every schedule must meet on real changes."""

from __future__ import annotations

import itertools

import pytest

from impact.analysis.change import resolve_change
from impact.analysis.cost import (
    DEFAULT_MODEL,
    Farm,
    change_cost,
    critical_path,
    durations_for,
    farm_for,
    model_rule,
    parse_machines,
    simulate,
    subgraph,
)
from impact.analysis.rebuild import estimate
from impact.errors import InputError
from impact.model import Derivation, DerivationGraph


def _path(name: str) -> str:
    return f"/nix/store/{(name * 32)[:32]}-{name}.drv"


def make_graph(spec: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]) -> DerivationGraph:
    """name → (system, inputs, requiredSystemFeatures); names are single letters."""
    return DerivationGraph.from_records(
        Derivation(
            path=_path(name),
            name=name,
            system=system,
            outputs={"out": f"/nix/store/{(name * 32)[:32]}-{name}"},
            required_system_features=features,
            inputs={_path(i): ("out",) for i in inputs},
        )
        for name, (system, inputs, features) in spec.items()
    )


LINUX = "x86_64-linux"

#   a(10) ─┐
#          ├─> c(30) ─┐
#   b(20) ─┤          ├─> e(5)
#          └─> d(40) ─┘
DIAMOND = {
    "a": (LINUX, (), ()),
    "b": (LINUX, (), ()),
    "c": (LINUX, ("a", "b"), ()),
    "d": (LINUX, ("b",), ()),
    "e": (LINUX, ("c", "d"), ()),
}
SECONDS = {"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0, "e": 5.0}


def _setup(spec, seconds):
    g = make_graph(spec)
    rows = sorted(range(len(g)), key=lambda i: g.names[i])
    sub = subgraph(g, rows)
    w = [seconds[g.names[int(i)]] for i in sub.rows]
    return g, sub, w


def test_critical_path_by_hand() -> None:
    g, sub, w = _setup(DIAMOND, SECONDS)
    length, chain = critical_path(sub, w)
    # Chains into e: a→c→e = 10+30+5 = 45; b→c→e = 20+30+5 = 55; b→d→e = 20+40+5 = 65. The longest is 65.
    assert length == 65
    assert [g.names[int(sub.rows[v])] for v in chain] == ["b", "d", "e"]


def test_list_scheduling_two_slots_by_hand() -> None:
    g, sub, w = _setup(DIAMOND, SECONDS)
    s = simulate(g, sub, w, Farm({LINUX: 1}, cores=2))
    start = {g.names[int(sub.rows[v])]: s.start[v] for v in range(5)}
    # t=0: a and b start on the two slots; a ends at 10, b at 20. c needs b, so slot idles 10–20.
    # t=20: c and d start; c ends 50, d ends 60. t=60: e starts, ends 65 = the critical path.
    assert start == {"a": 0, "b": 0, "c": 20, "d": 20, "e": 60}
    assert s.makespan == 65
    # Busy core-seconds 10+20+30+40+5 = 105 of 2 cores × 65 s.
    assert s.utilisation[LINUX] == pytest.approx(105 / 130)


def test_list_scheduling_big_parallel_by_hand() -> None:
    spec = dict(DIAMOND)
    spec["d"] = (LINUX, ("b",), ("big-parallel",))
    g, sub, w = _setup(spec, SECONDS)
    s = simulate(g, sub, w, Farm({LINUX: 1}, cores=2))
    start = {g.names[int(sub.rows[v])]: s.start[v] for v in range(5)}
    # Priorities (longest chain to the end): e 5, c 35, d 45, a 45, b 65.
    # t=0: a, b start. t=20: b ends; ready c (35) and d (45): d goes first and takes the whole machine
    # (both slots) until 60; c has no slot. t=60: c runs to 90. t=90: e runs to 95.
    assert start == {"a": 0, "b": 0, "c": 60, "d": 20, "e": 90}
    assert s.makespan == 95


def test_big_parallel_waits_for_a_whole_machine() -> None:
    spec = {"p": (LINUX, (), ()), "q": (LINUX, (), ("big-parallel",)), "r": (LINUX, (), ())}
    g, sub, w = _setup(spec, {"p": 30.0, "q": 20.0, "r": 5.0})
    s = simulate(g, sub, w, Farm({LINUX: 1}, cores=2))
    start = {g.names[int(sub.rows[v])]: s.start[v] for v in range(3)}
    # t=0: p (priority 30) takes a slot; q (20) needs both, so it waits and r (5) overtakes it.
    # r ends at 5, but one slot is not a machine: q starts when p ends at 30 and ends at 50.
    assert start == {"p": 0, "q": 30, "r": 0}
    assert s.makespan == 50


def test_systems_need_their_machines() -> None:
    spec = {
        "l": (LINUX, (), ()),
        "i": ("i686-linux", (), ()),
        "m": ("x86_64-darwin", (), ()),
        "f": ("builtin", (), ()),
        "u": (LINUX, ("f",), ()),
    }
    g, sub, w = _setup(spec, {"l": 10.0, "i": 10.0, "m": 10.0, "f": 7.0, "u": 1.0})
    s = simulate(g, sub, w, Farm({LINUX: 1, "x86_64-darwin": 1}, cores=1))
    start = {g.names[int(sub.rows[v])]: s.start[v] for v in range(5)}
    where = {g.names[int(sub.rows[v])]: s.machine[v] for v in range(5)}
    # One Linux slot takes l, i (i686 runs on x86_64-linux) and u; darwin takes m; the builtin fetch f runs on
    # the queue runner (no slot) from 0 to 7. Priorities: l 10, i 10, f 7+1 = 8, u 1.
    # Linux slot: l 0–10 (ties go to the lower row: i before l? rows sort by name: f i l m u → i first),
    # so i 0–10, l 10–20, u 20–21. Darwin: m 0–10.
    assert where["f"] is None and where["m"] == ("x86_64-darwin", 0) and where["i"] == (LINUX, 0)
    assert start == {"f": 0, "i": 0, "l": 10, "m": 0, "u": 20}
    assert s.makespan == 21
    with pytest.raises(InputError, match="no machine that builds x86_64-darwin"):
        simulate(g, sub, w, Farm({LINUX: 4}, cores=1))


def test_farm_for_and_machines_flag() -> None:
    farm = farm_for(["i686-linux", "x86_64-darwin", "builtin", "x86_64-linux"], 3, 4)
    assert farm == Farm({"x86_64-linux": 3, "x86_64-darwin": 3}, 4)
    assert parse_machines([]) == 10
    assert parse_machines(["6"]) == 6
    assert parse_machines(["x86_64-linux=20", "x86_64-darwin=2"]) == {"x86_64-linux": 20, "x86_64-darwin": 2}
    # A bare number covers every system not named: 4 Linux machines (they take i686 too), 1 darwin.
    mixed = parse_machines(["4", "x86_64-darwin=1"])
    assert farm_for(["i686-linux", "x86_64-darwin"], mixed, 2) == Farm({"x86_64-linux": 4, "x86_64-darwin": 1}, 2)
    # Named i686 machines take the i686 builds; no x86_64-linux machine is added for them.
    assert farm_for(["i686-linux"], parse_machines(["3", "i686-linux=2"])) == Farm({"i686-linux": 2}, 8)
    with pytest.raises(InputError, match="expected a number or SYSTEM=N"):
        parse_machines(["x86_64-linux=many"])
    with pytest.raises(InputError, match="at least one machine"):
        farm_for([LINUX], 0)
    with pytest.raises(InputError, match="at least one core"):
        farm_for([LINUX], 1, 0)


def test_cpu_hours_count_cores_held() -> None:
    spec = dict(DIAMOND)
    spec["d"] = (LINUX, ("b",), ("big-parallel",))
    g = make_graph(spec)
    cost = change_cost(g, range(len(g)), machines=1, cores=4)
    # No records: the model gives 5 min to a, b, c, e (median) and 1 h to d (big-parallel, holding 4 cores).
    assert cost.estimate.cpu_hours == pytest.approx((4 * 300 + 3600 * 4) / 3600)
    # Critical path b→d→e = 300 + 3600 + 300 s.
    assert cost.estimate.critical_path_hours == pytest.approx(4200 / 3600)
    assert cost.known_derivations == 0 and cost.uses_model
    assert "big-parallel" in cost.model_rules and "download" not in cost.model_rules
    assert any("1 h" in a for a in cost.assumptions)


@pytest.mark.shared
def test_model_rules_on_master(master_graph) -> None:
    g = master_graph

    def rule(drv: str) -> str:
        return model_rule(g, g.derivation_index(drv))

    assert rule("/nix/store/icz2bbjadb4v17gpyq5r9mpmhqyypv5j-linux-4.4.13.drv") == "big-parallel"
    assert rule("/nix/store/5wwhfwf2m246g0m22wwsj794gz8h7p3r-linux-4.4.13.tar.xz.drv") == "download"
    assert rule("/nix/store/hfjp50nnf9p6jhvf3s0l7lq8xq23ijzm-vm-test-run-natStandalone.drv") == "nixos-test"
    assert rule("/nix/store/7ws8s98v20pgrmkz5c4s8a99lhy07qbd-hello-2.10.drv") == "median"
    units = [i for i, n in enumerate(g.names) if n.startswith("unit-") and n.endswith(".service")]
    assert units and all(model_rule(g, i) == "trivial" for i in units)
    # The snapshot's derivations all get a rule of the documented model.
    assert set(durations_for(g, range(0, len(g), 97)).source) <= set(DEFAULT_MODEL)


@pytest.mark.shared
@pytest.mark.parametrize("name", ["qemu", "linux_4_4"])
def test_schedule_bounds_on_real_changes(master_graph, name) -> None:
    g = master_graph
    result = estimate(g, resolve_change(g, [name]))
    for machines, cores in [(1, 1), (2, 4), (50, 16)]:
        cost = change_cost(g, result.rebuilt, change=name, machines=machines, cores=cores)
        est = cost.estimate
        # No farm beats the critical path, nor its capacity: CPU-hours over all its cores.
        assert est.farm_hours >= est.critical_path_hours - 1e-9
        slots = sum(cost.farm.machines.values()) * cores
        assert est.farm_hours >= est.cpu_hours / slots - 1e-9
        # Graham's argument: follow the last build back through its inputs; at every moment either a build of
        # that chain runs, or it is ready and waits because its pool has no free slot (all `cores` of a machine
        # busy at least) — or, for a big-parallel build, no whole free machine (at least one core busy).
        waiting_cores = 1 if "big-parallel" in cost.sources else cores
        assert est.farm_hours <= est.critical_path_hours + est.cpu_hours / waiting_cores + 1e-9
    # The critical path is a chain of rebuilt derivations, each an input of the next, starting at a root.
    path = [g.derivation_index(s.drv) for s in est.critical_path]
    assert len(path) >= 2 and set(path) <= set(result.rebuilt.tolist())
    assert all(a in {j for j, _ in g.inputs_of(b)} for a, b in itertools.pairwise(path))
    assert g.drv_paths[path[0]] in result.change.root_paths


def test_median_of_records_replaces_the_assumed_median() -> None:
    from impact.analysis.cost import MEDIAN_MIN_SAMPLES, DurationMatch
    from impact.loaders.durations import DurationRecord

    names = [f"p{n:02d}" for n in range(MEDIAN_MIN_SAMPLES + 3)]
    g = DerivationGraph.from_records(
        Derivation(
            path=f"/nix/store/{n:0>32}-{n}.drv", name=n, system=LINUX, outputs={"out": f"/nix/store/{n:0>32}-{n}"}
        )
        for n in names
    )
    # Records for exactly MEDIAN_MIN_SAMPLES derivations: 1, 2, …, 20 minutes; their median is 10.5 min.
    known = {
        g.drv_paths[i]: DurationRecord(seconds=60.0 * (i + 1), drv_path=g.drv_paths[i])
        for i in range(MEDIAN_MIN_SAMPLES)
    }
    match = DurationMatch(by_drv=known, by_job={}, by_name={}, by_package={}, records=len(known), origins=("r",))
    d = durations_for(g, range(len(g)), match)
    assert d.median_samples == MEDIAN_MIN_SAMPLES and d.median_seconds == 630.0
    assert d.seconds[MEDIAN_MIN_SAMPLES:].tolist() == [630.0] * 3
    cost = change_cost(g, range(len(g)), match=match, machines=1, cores=1)
    assert cost.model_rules["median-of-data"][0] == 630.0
    # The model alone still uses the stated constant (5 min) for all 23.
    assert cost.model_only.cpu_hours == pytest.approx(len(names) * 300 / 3600)
    # One record fewer and the constant stays.
    fewer = DurationMatch(by_drv=dict(list(known.items())[1:]), by_job={}, by_name={}, by_package={})
    assert durations_for(g, range(len(g)), fewer).seconds[-1] == 300.0
