"""The default model of build durations: what a derivation is assumed to take when no build record matches it.

See `impact.analysis.cost` for the whole model."""

from __future__ import annotations

import re
from collections.abc import Mapping

from impact.model import DerivationGraph

#: A fixed-output derivation (fetchurl, fetchgit …) downloads: a minute, whatever its size.
DOWNLOAD_SECONDS = 60.0
#: A trivial builder (runCommand, writeText, wrappers, NixOS units and configuration files, anything with
#: `preferLocalBuild`): copies or writes a few files in seconds; 10 s covers the sandbox set-up.
TRIVIAL_SECONDS = 10.0
#: A `big-parallel` build (Linux kernels, Firefox, Thunderbird, Chromium): an hour on a big machine.
BIG_PARALLEL_SECONDS = 3600.0
#: A NixOS VM test (`kvm` + `nixos-test`): boots one or more VMs and runs a script, typically 5–20 minutes.
NIXOS_TEST_SECONDS = 900.0
#: Another `kvm` build (disk images, VirtualBox appliances): builds an image in a VM, about 20 minutes.
KVM_SECONDS = 1200.0
#: Everything else: an ordinary package build (configure, make, install, fixup), assumed to take 5 minutes,
#: the order of magnitude of a median nixpkgs build on Hydra; when build records are given and match at
#: least `MEDIAN_MIN_SAMPLES` ordinary derivations, their median is used instead.
MEDIAN_SECONDS = 300.0
#: How many matched ordinary builds it takes to use their median instead of `MEDIAN_SECONDS`.
MEDIAN_MIN_SAMPLES = 20

#: Derivation names of trivial builders, for those that do not set `preferLocalBuild` (the first test): NixOS
#: units and generated files (`unit-*.service`, `etc-*`, `*.conf`), compiler wrappers, setup hooks, stdenvs
#: (a setup script), the NixOS test drivers, system and VM scripts, which only link or write other store paths.
TRIVIAL_NAME = re.compile(
    r"""^(?:unit-.*|etc(?:-.*)?|system-units|user-units|network-units|system-path|reginfo|stage-\d.*|
        nixos-system-.*|run-.*-vm|nixos-vm|setupHook\.sh|users-groups\.json|set-environment|local-cmds|
        firewall-(?:start|reload)|udev-rules|dbus-conf|desktops|xsession|initrd-fsinfo|hook|stdenv(?:-.*)?|
        nixos-test-driver-.*|
        .*-wrapper(?:-[0-9].*)?|.*\.(?:sh|conf|json|service|socket|timer|target|cfg|sed|pam|nix|rules|xml|ini|
        desktop|txt|pl|py|patch|el))$""",
    re.VERBOSE,
)

#: Model rules: key → (seconds, what it means). Shown with every answer that uses them.
DEFAULT_MODEL: Mapping[str, tuple[float, str]] = {
    "download": (DOWNLOAD_SECONDS, "fixed-output derivation (a download)"),
    "trivial": (
        TRIVIAL_SECONDS,
        "trivial builder (preferLocalBuild, or by name: NixOS unit/config file, wrapper, script)",
    ),
    "big-parallel": (BIG_PARALLEL_SECONDS, "requiredSystemFeatures big-parallel (kernels, browsers)"),
    "nixos-test": (NIXOS_TEST_SECONDS, "NixOS VM test (kvm, nixos-test)"),
    "kvm": (KVM_SECONDS, "other kvm build (VM disk images)"),
    "median": (MEDIAN_SECONDS, "any other derivation: an assumed median package build"),
    "builtin": (DOWNLOAD_SECONDS, "builtin:fetchurl, run by the queue runner"),
}


def model_rule(graph: DerivationGraph, i: int) -> str:
    """Which rule of the default model applies to derivation row `i`."""
    features = graph.features.get(i, ())
    if graph.system_of(i) == "builtin":
        return "builtin"
    if graph.fixed_output[i]:
        return "download"
    if "big-parallel" in features:
        return "big-parallel"
    if "nixos-test" in features:
        return "nixos-test"
    if "kvm" in features:
        return "kvm"
    if graph.prefer_local_build[i] or TRIVIAL_NAME.match(graph.names[i]):
        return "trivial"
    return "median"


def big_parallel(graph: DerivationGraph, i: int) -> bool:
    """True when derivation row `i` needs a whole machine (`requiredSystemFeatures` has big-parallel)."""
    return "big-parallel" in graph.features.get(i, ())
