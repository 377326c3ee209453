"""Latency percentiles as the benchmarks report them (milliseconds)."""

from __future__ import annotations

import statistics


def percentile(samples: list[float], q: float) -> float:
    """The sample at quantile q (0..1) of the sorted samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency_ms(samples: list[float], *, digits: int = 2) -> dict[str, float]:
    """p50 / p95 / p99 / max of samples given in seconds."""
    return {
        "p50_ms": round(statistics.median(samples) * 1000, digits),
        "p95_ms": round(percentile(samples, 0.95) * 1000, digits),
        "p99_ms": round(percentile(samples, 0.99) * 1000, digits),
        "max_ms": round(max(samples) * 1000, digits),
    }
