"""Conditions CI can gate on with `--fail-on`: a Hydra verdict, or a `10.rebuild-*` label that is set.

`impact hydra-compare --fail-on breaks` and `impact pr --fail-on rebuild-linux:501+` still print (and write)
their answer; when a condition holds, the command then exits with `FAIL_ON_EXIT` (3) and one line saying which,
so a CI step fails. Exit code 2 stays for bad input, a condition impact does not know included.

A condition is one of:
- a Hydra verdict (`impact.analysis.hydra`): `breaks`, `restart`, `wait`, or `not-ok` (any verdict but `ok`);
- a label, as nixpkgs CI sets it: `rebuild-<kernel>:<bucket>` (`rebuild-linux:501+`, `rebuild-darwin:1-10`; the
  buckets overlap as CI's do, so `rebuild-linux:501+` holds for every count above 500),
  `rebuild-<kernel>-stdenv`, `rebuild-nixos-tests`, or the label's full text (`10.rebuild-linux: 501+`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from impact.analysis.labels import BUCKETS, KERNELS, NIXOS_TESTS_LABEL, count_label, stdenv_label
from impact.errors import InputError

#: The verdicts a condition may name; `not-ok` is any verdict but `ok`.
VERDICTS = ("breaks", "restart", "wait", "not-ok")
#: Every label a condition may name, by its full text.
LABELS = (
    *(count_label(k, b) for k in KERNELS for b, _, _ in BUCKETS),
    *(stdenv_label(k) for k in KERNELS),
    NIXOS_TESTS_LABEL,
)

_LABEL_EXAMPLES = ("rebuild-linux:501+", "rebuild-darwin-stdenv", "rebuild-nixos-tests (any 10.rebuild-* label)")


@dataclass(frozen=True)
class Condition:
    """One `--fail-on` condition: a verdict or a label."""

    #: As given on the command line.
    text: str
    verdict: str | None = None
    label: str | None = None

    def holds(self, verdict: str | None, labels: Collection[str]) -> bool:
        """True when the answer's verdict (None: no Hydra builds) or its set labels meet the condition."""
        if self.label is not None:
            return self.label in labels
        if verdict is None:
            return False
        return verdict != "ok" if self.verdict == "not-ok" else verdict == self.verdict


def _label(text: str) -> str | None:
    """The full label a condition names (`rebuild-linux:501+` → `10.rebuild-linux: 501+`), or None."""
    plain = "".join(text.split()).removeprefix("10.")
    for label in LABELS:
        if "".join(label.split()).removeprefix("10.") == plain:
            return label
    return None


def parse_conditions(texts: Sequence[str], *, verdicts: bool, labels: bool, command: str) -> tuple[Condition, ...]:
    """The conditions `texts` name; one that names nothing `command` can check raises `InputError` (exit 2),
    before any work: a verdict needs Hydra's builds (`verdicts`), a label a report with labels (`labels`)."""
    found = []
    for text in texts:
        word = text.strip().lower()
        label = _label(text)
        if word in VERDICTS and verdicts:
            found.append(Condition(text, verdict=word))
        elif label is not None and labels:
            found.append(Condition(text, label=label))
        elif word in VERDICTS:
            raise InputError(
                f"--fail-on {text}: {command} has no Hydra verdict here",
                tip="give Hydra's builds with --hydra-base and --hydra-head",
            )
        else:
            choices = [*(VERDICTS if verdicts else ()), *(_LABEL_EXAMPLES if labels else ())]
            raise InputError(f"--fail-on {text!r}: no such condition for {command}", tip=f"use {', '.join(choices)}")
    return tuple(found)


def holding(conditions: Sequence[Condition], verdict: str | None, labels: Collection[str]) -> tuple[str, ...]:
    """The conditions that hold, each in words (`verdict breaks`, `label 10.rebuild-linux: 501+`)."""
    return tuple(
        f"verdict {verdict}" if c.verdict else f"label {c.label}" for c in conditions if c.holds(verdict, labels)
    )
