"""Which branch takes a change: branch rules as data, read from a TOML file, applied to the facts of an estimate.

The rules of nixpkgs today ship as `impact/policy/nixpkgs.toml`; a project with other rules (Guix sends
300 to 1,800 dependents to `staging` and more to `core-updates`) writes its own file and passes
`--policy FILE`. `docs/branch-policy.md` describes the format. The file is read with `tomllib` from the
standard library: TOML is what Python projects already write by hand, and it needs no dependency.

A policy has *lines* of development (`master` with its `staging`, `staging-next`, `staging-nixos`;
`release-YY.MM` with `staging-YY.MM`, …), each naming its branches by role, and an ordered list of *rules*.
A rule fires when every condition of its `when` holds; every rule that fires gives a reason citing the number
it compared and its id; the first that fires with a `target` decides the branch, later ones become
alternatives. With no target fired the change goes to the line's primary branch.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any

from impact.analysis.change import RootKind
from impact.analysis.labels import KERNELS, RebuildLabels
from impact.analysis.rebuild import RebuildEstimate
from impact.errors import InputError

#: The rule id of the reason given when no rule picked a target.
DEFAULT_RULE = "default"
#: The role of the branch a line falls back to.
PRIMARY_ROLE = "primary"
_VERSION = r"(?P<version>\d{2}\.\d{2})"
_CONDITIONS: dict[str, type] = {
    "rebuilds-at-least": int,
    "rebuilds-below": int,
    "security": bool,
    "kernel-change": bool,
    "label": str,
    "base-role": str,
}
_RULE_KEYS = {"id", "when", "target", "also", "consider", "text"}


class Measure(str, Enum):
    """What a policy's thresholds count."""

    PACKAGES_PER_KERNEL = "packages-per-kernel"
    """The largest number of unique packages rebuilt on one kernel (what the `10.rebuild-*` labels bucket)."""
    PACKAGES = "packages"
    """Unique packages rebuilt on any system."""
    DERIVATIONS = "derivations"
    """Derivations to build."""
    JOBS = "jobs"
    """Changed jobs over all jobsets."""


@dataclass(frozen=True)
class Facts:
    """What the rules look at: the numbers of one estimate, the base branch and whether it is a security fix."""

    #: The branch the change is based on, e.g. `master` or `release-16.03`.
    base: str
    #: Kernel → unique packages of the `nixpkgs` jobset rebuilt on it.
    packages_by_kernel: Mapping[str, int] = field(default_factory=dict)
    #: Unique packages rebuilt on any system.
    packages: int = 0
    #: Derivations to build.
    derivations: int = 0
    #: Changed jobs over all jobsets.
    jobs: int = 0
    #: The labels that apply.
    labels: frozenset[str] = frozenset()
    #: Names of the roots that are kernels (empty when the change does not touch a kernel).
    kernel_roots: tuple[str, ...] = ()
    #: Changed NixOS VM test jobs.
    nixos_tests: int = 0
    #: The change is a critical security fix (`--security`).
    security: bool = False

    def measure(self, measure: Measure) -> tuple[int, str]:
        """The number a threshold compares, and where it was counted (a kernel, or `all systems`)."""
        if measure is Measure.PACKAGES_PER_KERNEL:
            kernels = [*KERNELS, *sorted(set(self.packages_by_kernel) - set(KERNELS))]
            kernel = max(kernels, key=lambda k: self.packages_by_kernel.get(k, 0))
            return self.packages_by_kernel.get(kernel, 0), kernel
        value = {Measure.PACKAGES: self.packages, Measure.DERIVATIONS: self.derivations, Measure.JOBS: self.jobs}
        return value[measure], "all systems"


@dataclass(frozen=True)
class Condition:
    """The `when` of a rule: every field that is set must hold."""

    rebuilds_at_least: int | None = None
    rebuilds_below: int | None = None
    security: bool | None = None
    kernel_change: bool | None = None
    label: str | None = None
    base_role: str | None = None

    def holds(self, facts: Facts, value: int, base_role: str) -> bool:
        """Whether the condition holds for `facts`, whose measured number is `value`."""
        return (
            (self.rebuilds_at_least is None or value >= self.rebuilds_at_least)
            and (self.rebuilds_below is None or value < self.rebuilds_below)
            and (self.security is None or facts.security == self.security)
            and (self.kernel_change is None or bool(facts.kernel_roots) == self.kernel_change)
            and (self.label is None or self.label in facts.labels)
            and (self.base_role is None or base_role == self.base_role)
        )


@dataclass(frozen=True)
class Rule:
    """One branch rule."""

    #: A short id, cited in reasons, e.g. `mass-rebuild`.
    id: str
    #: When it fires.
    when: Condition
    #: Roles it sends the change to, in preference (the first the line has).
    target: tuple[str, ...] = ()
    #: Roles it adds as alternatives when it decides the target.
    also: tuple[str, ...] = ()
    #: Roles it suggests without deciding (the first the line has).
    consider: tuple[str, ...] = ()
    #: The reason, with `{count}`, `{packages}` (`1 package`, `2 packages`), `{kernel}`, `{branch}`, `{at_least}`,
    #: `{below}`, `{roots}`, `{nixos_tests}`, `{nixos_test_jobs}`,
    #: `{derivations}`, `{jobs}`, `{base}` filled in.
    text: str = ""


@dataclass(frozen=True)
class Line:
    """A line of development: role → branch name pattern (`{version}` stands for YY.MM)."""

    roles: Mapping[str, str]

    def match(self, branch: str) -> tuple[str, str] | None:
        """(role, version) when `branch` is one of this line's branches."""
        for role, pattern in self.roles.items():
            regex = re.escape(pattern).replace(re.escape("{version}"), _VERSION)
            m = re.fullmatch(regex, branch)
            if m:
                return role, m.groupdict().get("version") or ""
        return None

    def branch(self, role: str, version: str) -> str | None:
        """The branch of `role` on this line, or None when the line has no such role."""
        pattern = self.roles.get(role)
        return None if pattern is None else pattern.replace("{version}", version)


@dataclass(frozen=True)
class Policy:
    """Branch rules of one project."""

    #: The project, e.g. `nixpkgs`.
    name: str
    #: Lines of development.
    lines: tuple[Line, ...]
    #: Rules in order.
    rules: tuple[Rule, ...]
    #: Base branch when none is given.
    default_base: str = "master"
    #: What thresholds count.
    measure: Measure = Measure.PACKAGES_PER_KERNEL
    #: A root derivation named like this makes a change a kernel change.
    kernel_root_name: str | None = None
    #: Where the rules come from (a URL), for reports.
    source: str = ""
    #: The file it was read from.
    origin: str = ""

    def locate(self, base: str) -> tuple[Line, str, str]:
        """(line, role, version) of a base branch; raises InputError for a branch no line has."""
        for line in self.lines:
            found = line.match(base)
            if found:
                return line, *found
        known = ", ".join(p for line in self.lines for p in line.roles.values())
        raise InputError(
            f"branch {base!r} is not a branch of policy {self.name} ({self.origin})",
            tip=f"give one of: {known} ({{version}} is YY.MM), or --policy FILE with your project's branches",
        )


@dataclass(frozen=True)
class Reason:
    """Why a branch was picked or offered: the rule that fired and the number it compared."""

    #: The rule id (`default` when no rule picked a target).
    rule: str
    #: The reason, readable.
    text: str
    #: The number compared (the policy's measure).
    value: int
    #: What the number counts, e.g. `packages-per-kernel`.
    measure: str
    #: The branch the rule named.
    branch: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "rule": self.rule,
            "text": self.text,
            "value": self.value,
            "measure": self.measure,
            "branch": self.branch,
        }


@dataclass(frozen=True)
class BranchAdvice:
    """Which branch takes a change, which others could, and why."""

    #: The branch the change was based on.
    base: str
    #: The branch the rules pick.
    target: str
    #: Other branches the rules offer.
    alternatives: tuple[str, ...]
    #: Every rule that fired, in order.
    reasons: tuple[Reason, ...]
    #: The policy's name.
    policy: str = "nixpkgs"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary: the `branch` key of `impact estimate --json`."""
        return {
            "base": self.base,
            "target": self.target,
            "alternatives": list(self.alternatives),
            "reasons": [r.to_dict() for r in self.reasons],
            "policy": self.policy,
        }


# -- reading ------------------------------------------------------------------------------------------------


def default_policy_path() -> Path:
    """The nixpkgs policy shipped with impact."""
    return Path(str(resources.files("impact") / "policy" / "nixpkgs.toml"))


def load_policy(path: Path | str | None = None) -> Policy:
    """Read a policy file (default: the shipped nixpkgs rules)."""
    from impact.loaders._io import read_text  # refuses FIFOs and devices, decodes strictly

    file = Path(path) if path is not None else default_policy_path()
    try:
        text = read_text(file)
    except InputError as e:
        raise InputError(f"cannot read policy file: {e}", tip="give a TOML file, see docs/branch-policy.md") from None
    return parse_policy(text, origin=str(file))


def _bad(origin: str, what: str) -> InputError:
    return InputError(f"policy {origin}: {what}", tip="see docs/branch-policy.md for the format")


def _roles(value: Any, origin: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _bad(origin, f"{where} must be a role or a list of roles")


def parse_policy(text: str, origin: str = "<policy>") -> Policy:
    """Parse and check a policy file's TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise _bad(origin, f"not valid TOML: {e}") from None
    except RecursionError:
        raise _bad(origin, "nested too deeply") from None
    except ValueError as e:  # an integer past Python's digit limit
        raise _bad(origin, f"not usable TOML ({str(e).split(';')[0]})") from None
    for key, shape in (("policy", dict), ("line", list), ("rule", list)):
        if key in data and not isinstance(data[key], shape):
            raise _bad(origin, f"`{key}` must be {'a table' if shape is dict else 'an array of tables'}")
    head = data.get("policy", {})
    if not isinstance(head, dict):
        raise _bad(origin, "[policy] must be a table")
    try:
        measure = Measure(head.get("measure", Measure.PACKAGES_PER_KERNEL.value))
    except ValueError:
        raise _bad(
            origin, f"measure {head.get('measure')!r} is not one of {', '.join(m.value for m in Measure)}"
        ) from None
    lines = []
    for n, raw in enumerate(data.get("line", []), 1):
        if not isinstance(raw, dict) or PRIMARY_ROLE not in raw or not all(isinstance(v, str) for v in raw.values()):
            raise _bad(origin, f"line {n} must map roles to branch names and have a `{PRIMARY_ROLE}` role")
        lines.append(Line(roles=dict(raw)))
    if not lines:
        raise _bad(origin, "no [[line]] of development")
    rules = []
    for n, raw in enumerate(data.get("rule", []), 1):
        if not isinstance(raw, dict) or "id" not in raw:
            raise _bad(origin, f"rule {n} has no id")
        unknown = set(raw) - _RULE_KEYS
        if unknown:
            raise _bad(origin, f"rule {raw['id']} has unknown keys {', '.join(sorted(unknown))}")
        when = raw.get("when", {})
        if not isinstance(when, dict) or set(when) - set(_CONDITIONS):
            raise _bad(origin, f"rule {raw['id']}: `when` takes only {', '.join(sorted(_CONDITIONS))}")
        for key, value in when.items():
            kind = _CONDITIONS[key]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise _bad(origin, f"rule {raw['id']}: `{key}` must be {kind.__name__}, not {value!r}")
        rule = Rule(
            id=str(raw["id"]),
            when=Condition(**{k.replace("-", "_"): v for k, v in when.items()}),
            target=_roles(raw.get("target", []), origin, f"rule {raw['id']} target"),
            also=_roles(raw.get("also", []), origin, f"rule {raw['id']} also"),
            consider=_roles(raw.get("consider", []), origin, f"rule {raw['id']} consider"),
            text=str(raw.get("text", raw["id"])),
        )
        if not (rule.target or rule.consider):
            raise _bad(origin, f"rule {rule.id} has neither `target` nor `consider`")
        rules.append(rule)
    kernel = head.get("kernel-change", {})
    pattern = kernel.get("root-name") if isinstance(kernel, dict) else None
    if pattern is not None and not isinstance(pattern, str):
        raise _bad(origin, "kernel-change root-name must be a string (a regular expression)")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as e:
            raise _bad(origin, f"kernel-change root-name {pattern!r} is not a regular expression: {e}") from e
    policy = Policy(
        name=str(head.get("name", Path(origin).stem)),
        lines=tuple(lines),
        rules=tuple(rules),
        default_base=str(head.get("default-base", lines[0].roles[PRIMARY_ROLE])),
        measure=measure,
        kernel_root_name=pattern,
        source=str(head.get("source", "")),
        origin=origin,
    )
    policy.locate(policy.default_base)
    return policy


# -- applying -----------------------------------------------------------------------------------------------


def facts_of(
    result: RebuildEstimate, labels: RebuildLabels, policy: Policy, *, base: str | None = None, security: bool = False
) -> Facts:
    """The facts the rules look at, from an estimate and its labels."""
    kernel_roots: tuple[str, ...] = ()
    if policy.kernel_root_name:
        regex = re.compile(policy.kernel_root_name)
        kernel_roots = tuple(
            sorted({r.name for r in result.change.roots if r.kind is not RootKind.SOURCE_TREE and regex.search(r.name)})
        )
    return Facts(
        base=base or policy.default_base,
        packages_by_kernel=labels.rebuild_count_by_kernel,
        packages=len(labels.packages),
        derivations=result.derivations_to_build,
        jobs=result.changed_job_count,
        labels=frozenset(labels.active),
        kernel_roots=kernel_roots,
        nixos_tests=len(result.nixos_tests),
        security=security,
    )


class _Fill(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def advise(policy: Policy, facts: Facts) -> BranchAdvice:
    """Apply `policy` to `facts`: the target branch, the alternatives and a reason for every rule that fired."""
    line, base_role, version = policy.locate(facts.base)
    value, where = facts.measure(policy.measure)
    target: str | None = None
    alternatives: list[str] = []
    reasons: list[Reason] = []

    def first(roles: Sequence[str]) -> str | None:
        return next((b for b in (line.branch(r, version) for r in roles) if b), None)

    for rule in policy.rules:
        if not rule.when.holds(facts, value, base_role):
            continue
        named = first(rule.target) if rule.target else first(rule.consider)
        if named is None:
            continue
        if rule.target:
            if target is None:
                target = named
                alternatives.extend(b for b in (first([r]) for r in rule.also) if b)
            else:
                alternatives.append(named)
        else:
            alternatives.append(named)
        reasons.append(Reason(rule.id, _text(rule, facts, value, where, named), value, policy.measure.value, named))
    if target is None:
        target = line.branch(PRIMARY_ROLE, version) or facts.base
        fired = " (only suggestions fired)" if reasons else ""
        reasons.insert(
            0,
            Reason(
                DEFAULT_RULE,
                f"{_count(value, _unit(policy.measure))} on {where}: no rule sends it elsewhere{fired},"
                f" so {target} [rule {DEFAULT_RULE}]",
                value,
                policy.measure.value,
                target,
            ),
        )
    return BranchAdvice(
        base=facts.base,
        target=target,
        alternatives=tuple(dict.fromkeys(a for a in alternatives if a != target)),
        reasons=tuple(reasons),
        policy=policy.name,
    )


def _unit(measure: Measure) -> str:
    return {
        Measure.PACKAGES_PER_KERNEL: "package",
        Measure.PACKAGES: "package",
        Measure.DERIVATIONS: "derivation",
        Measure.JOBS: "job",
    }[measure]


def _count(value: int, unit: str) -> str:
    return f"{value:,} {unit}{'' if value == 1 else 's'}"


def _text(rule: Rule, facts: Facts, value: int, where: str, branch: str) -> str:
    fill = _Fill(
        count=f"{value:,}",
        packages=_count(value, "package"),
        kernel=where,
        branch=branch,
        at_least=f"{rule.when.rebuilds_at_least:,}" if rule.when.rebuilds_at_least is not None else "",
        below=f"{rule.when.rebuilds_below:,}" if rule.when.rebuilds_below is not None else "",
        roots=", ".join(facts.kernel_roots),
        nixos_tests=f"{facts.nixos_tests:,}",
        nixos_test_jobs=_count(facts.nixos_tests, "NixOS test job"),
        derivations=f"{facts.derivations:,}",
        jobs=f"{facts.jobs:,}",
        base=facts.base,
    )
    return rule.text.format_map(fill) + f" [rule {rule.id}]"


def branch_advice(
    result: RebuildEstimate,
    labels: RebuildLabels,
    policy: Policy | None = None,
    *,
    base: str | None = None,
    security: bool = False,
) -> BranchAdvice:
    """The branch advice for an estimate: `facts_of` then `advise` (the shipped nixpkgs policy by default)."""
    policy = policy or load_policy()
    return advise(policy, facts_of(result, labels, policy, base=base, security=security))
