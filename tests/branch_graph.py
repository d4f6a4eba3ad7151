"""A graph drawn by hand for the labels, branch, compare and renderer tests.

    libfoo (x86_64-linux, i686-linux, x86_64-darwin)
    app (x86_64-linux) ← libfoo                 stdenv (x86_64-darwin) ← libfoo
    tarball (no system in its attribute) ← libfoo
    vm-test-run-simple (nixos: tests.simple.x86_64-linux) ← app
    tool (x86_64-linux), on its own

Changing libfoo rebuilds every derivation but tool: 7 derivations (x86_64-linux 4, i686-linux 1,
x86_64-darwin 2). Counted as nixpkgs CI counts: linux {app, libfoo} = 2, darwin {libfoo, stdenv} = 2
(`tarball` has no platform part and is dropped).
"""

from __future__ import annotations

from impact.model import Derivation, DerivationGraph, Job

LINUX = "x86_64-linux"
I686 = "i686-linux"
DARWIN = "x86_64-darwin"


def _drv(name: str, system: str, inputs: tuple[str, ...] = ()) -> Derivation:
    key = f"{name}-{system}"
    return Derivation(
        path=f"/nix/store/{'a' * 32}-{key}.drv",
        name=name,
        system=system,
        outputs={"out": f"/nix/store/{'b' * 32}-{key}"},
        inputs={f"/nix/store/{'a' * 32}-{i}.drv": ("out",) for i in inputs},
    )


def branch_graph() -> DerivationGraph:
    """The graph of the module docstring, with maintainers: libfoo Alice and Bob, app Bob, stdenv Carol, tool Dave."""
    derivations = [
        _drv("libfoo", LINUX),
        _drv("libfoo", I686),
        _drv("libfoo", DARWIN),
        _drv("app", LINUX, (f"libfoo-{LINUX}",)),
        _drv("stdenv", DARWIN, (f"libfoo-{DARWIN}",)),
        _drv("tarball", LINUX, (f"libfoo-{LINUX}",)),
        _drv("vm-test-run-simple", LINUX, (f"app-{LINUX}",)),
        _drv("tool", LINUX),
    ]
    path = {f"{d.name}-{d.system}": d.path for d in derivations}

    def job(attr: str, key: str, system: str, maintainers: tuple[str, ...] = (), jobset: str = "nixpkgs") -> Job:
        return Job(
            attr=attr,
            system=system,
            jobset=jobset,
            drv_path=path[key],
            name=key.split("-x86")[0],
            maintainers=maintainers,
        )

    jobs = [
        job(f"libfoo.{LINUX}", f"libfoo-{LINUX}", LINUX, ("Alice", "Bob")),
        job(f"libfoo.{I686}", f"libfoo-{I686}", I686, ("Alice", "Bob")),
        job(f"libfoo.{DARWIN}", f"libfoo-{DARWIN}", DARWIN, ("Alice", "Bob")),
        job(f"app.{LINUX}", f"app-{LINUX}", LINUX, ("Bob",)),
        job(f"stdenv.{DARWIN}", f"stdenv-{DARWIN}", DARWIN, ("Carol",)),
        job("tarball", f"tarball-{LINUX}", LINUX),
        job(f"tool.{LINUX}", f"tool-{LINUX}", LINUX, ("Dave",)),
        job(f"tests.simple.{LINUX}", f"vm-test-run-simple-{LINUX}", LINUX, jobset="nixos"),
    ]
    graph = DerivationGraph.from_records(derivations, jobs, origin="by hand")
    graph.meta["label"] = "hand-made graph"
    return graph
