"""The `10.rebuild-*` labels, counted exactly as nixpkgs CI counts them.

nixpkgs CI (`ci/eval/compare/default.nix` and `utils.nix`) splits each changed job attribute of the
`nixpkgs` jobset at its last dot into a package name and a platform (`python3Packages.numpy.x86_64-linux` →
`python3Packages.numpy`, `x86_64-linux`; an attribute without a dot is dropped), groups the unique package
names by kernel (a platform ending in `linux` or `darwin`) and gives each kernel every bucket its count falls
in: `0`, `1`, `1-10`, `11-100`, `101-500`, `501+`, `501-1000`, `1001-2500`, `2501-5000`, `5001+` (the buckets
overlap, so 700 is both `501+` and `501-1000`). `10.rebuild-<kernel>-stdenv` is set when the package
`stdenv` rebuilds on that kernel, `10.rebuild-nixos-tests` when the simplest NixOS VM test rebuilds
(CI checks `nixosTests.simple-vm` / `simple-container`; a 2016 Hydra `nixos` jobset calls it
`tests.simple.x86_64-linux`). The installer tests that change on every commit do not trip it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from impact.analysis.rebuild import RebuildEstimate

#: The kernels CI labels, in its order.
KERNELS = ("linux", "darwin")
#: The jobset whose jobs CI counts.
PACKAGES_JOBSET = "nixpkgs"
#: (bucket, lowest count, highest count or None) in the order CI lists them.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0", 0, 0),
    ("1", 1, 1),
    ("1-10", 1, 10),
    ("11-100", 11, 100),
    ("101-500", 101, 500),
    ("501+", 501, None),
    ("501-1000", 501, 1000),
    ("1001-2500", 1001, 2500),
    ("2501-5000", 2501, 5000),
    ("5001+", 5001, None),
)
#: The label set when the simplest NixOS VM test rebuilds.
NIXOS_TESTS_LABEL = "10.rebuild-nixos-tests"
#: (jobset, attribute) of the jobs whose rebuild sets `10.rebuild-nixos-tests`: the names today's CI checks
#: among the `nixpkgs` packages.
NIXOS_TESTS_JOBS: tuple[tuple[str, str], ...] = (
    ("nixpkgs", "nixosTests.simple-vm"),
    ("nixpkgs", "nixosTests.simple-container"),
)
#: The Hydra `nixos` jobset's simplest VM test, on whichever system the jobset evaluates (`tests.simple.<system>`).
NIXOS_SIMPLE_TEST = ("nixos", "tests.simple")


def split_attr(attr: str) -> tuple[str, str] | None:
    """`hello.x86_64-linux` → (`hello`, `x86_64-linux`); None for an attribute without a platform part."""
    name, dot, platform = attr.rpartition(".")
    return (name, platform) if dot and name else None


def kernel_of(platform: str) -> str | None:
    """The kernel CI files a platform under (`x86_64-linux` → `linux`), or None."""
    return next((k for k in KERNELS if platform.endswith(k)), None)


def count_label(kernel: str, bucket: str) -> str:
    """The label text, e.g. `10.rebuild-linux: 1-10`."""
    return f"10.rebuild-{kernel}: {bucket}"


def stdenv_label(kernel: str) -> str:
    """The label set when `stdenv` rebuilds on `kernel`, e.g. `10.rebuild-linux-stdenv`."""
    return f"10.rebuild-{kernel}-stdenv"


def buckets_of(count: int) -> list[str]:
    """Every bucket `count` falls in, in CI's order: 700 → [`501+`, `501-1000`]."""
    return [b for b, lo, hi in BUCKETS if lo <= count and (hi is None or count <= hi)]


@dataclass(frozen=True)
class RebuildLabels:
    """The rebuilt packages of the `nixpkgs` jobset grouped as CI groups them, and the labels they earn."""

    #: Platform → sorted unique package names rebuilt on it.
    rebuilds_by_platform: Mapping[str, tuple[str, ...]]
    #: Kernel (`linux`, `darwin`) → sorted unique package names rebuilt on any of its platforms.
    rebuilds_by_kernel: Mapping[str, tuple[str, ...]]
    #: Every label CI knows, with whether it applies (CI sets the true ones and removes the false ones).
    labels: Mapping[str, bool]

    @property
    def rebuild_count_by_kernel(self) -> dict[str, int]:
        """Kernel → how many unique packages rebuild on it: the number the labels bucket."""
        return {k: len(v) for k, v in self.rebuilds_by_kernel.items()}

    @property
    def packages(self) -> tuple[str, ...]:
        """Sorted unique package names rebuilt on any platform."""
        return tuple(sorted({p for names in self.rebuilds_by_platform.values() for p in names}))

    @property
    def active(self) -> tuple[str, ...]:
        """The labels that apply, in CI's order: counts per kernel, stdenv per kernel, NixOS tests."""
        return tuple(label for label, on in self.labels.items() if on)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "labels": list(self.active),
            "rebuildCountByKernel": self.rebuild_count_by_kernel,
            "rebuildsByKernel": {k: list(v) for k, v in self.rebuilds_by_kernel.items()},
            "rebuildsByPlatform": {k: list(v) for k, v in self.rebuilds_by_platform.items()},
        }


def rebuild_labels(changed_jobs: Mapping[str, Iterable[str]]) -> RebuildLabels:
    """The labels of a change given its changed jobs (jobset → attributes), as nixpkgs CI computes them."""
    by_platform: dict[str, set[str]] = {}
    for attr in changed_jobs.get(PACKAGES_JOBSET, ()):
        split = split_attr(attr)
        if split:
            by_platform.setdefault(split[1], set()).add(split[0])
    by_kernel = {k: sorted({n for p, names in by_platform.items() if p.endswith(k) for n in names}) for k in KERNELS}
    labels: dict[str, bool] = {}
    for kernel in KERNELS:
        matched = set(buckets_of(len(by_kernel[kernel])))
        labels.update({count_label(kernel, b): b in matched for b, _, _ in BUCKETS})
    for kernel in KERNELS:
        labels[stdenv_label(kernel)] = "stdenv" in by_kernel[kernel]
    changed = {js: set(attrs) for js, attrs in changed_jobs.items()}
    packages = {n for names in by_platform.values() for n in names}
    simple_jobset, simple_test = NIXOS_SIMPLE_TEST
    labels[NIXOS_TESTS_LABEL] = any(
        attr in changed.get(js, ()) or (js == PACKAGES_JOBSET and attr in packages) for js, attr in NIXOS_TESTS_JOBS
    ) or any((split_attr(a) or ("", ""))[0] == simple_test for a in changed.get(simple_jobset, ()))
    return RebuildLabels(
        rebuilds_by_platform={p: tuple(sorted(n)) for p, n in sorted(by_platform.items())},
        rebuilds_by_kernel={k: tuple(v) for k, v in by_kernel.items()},
        labels=labels,
    )


def labels_from_facts(counts: Mapping[str, int], stdenv: Iterable[str], nixos_tests: bool) -> tuple[str, ...]:
    """The labels that apply, in CI's order, from the numbers they follow: packages rebuilt per kernel evaluated
    (`counts`), the kernels whose `stdenv` rebuilds, and whether the simplest NixOS test rebuilds. The same as
    `RebuildLabels.active` (restricted to the kernels in `counts`), and never a label outside `KNOWN_LABELS`."""
    rebuilt_stdenv = set(stdenv)
    found = [count_label(k, b) for k in KERNELS if k in counts for b in buckets_of(counts[k])]
    found += [stdenv_label(k) for k in KERNELS if k in counts and k in rebuilt_stdenv]
    return tuple(found + ([NIXOS_TESTS_LABEL] if nixos_tests else []))


#: Every label impact can set: the buckets of each kernel, its stdenv, the NixOS tests.
KNOWN_LABELS: frozenset[str] = frozenset(rebuild_labels({}).labels)


def labels_of(result: RebuildEstimate) -> RebuildLabels:
    """The labels of an estimate."""
    return rebuild_labels(result.changed_jobs)
