"""Timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """The fastest of `repeat` runs of `fn` in seconds, and its last result (the minimum is the least noisy
    figure on a shared machine)."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def median_of(fn: Callable[[], Any], repeat: int = 5) -> float:
    """The median of `repeat` runs of `fn`, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def ms(seconds: float) -> str:
    """Seconds as milliseconds, for a line of output."""
    return f"{seconds * 1e3:,.2f} ms"


def line(label: str, value: str) -> str:
    """One aligned line of benchmark output."""
    return f"  {label:<58} {value}"
