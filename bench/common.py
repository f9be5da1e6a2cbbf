"""Helpers the benchmarks share: loopback ports, percentiles and peak memory.

Each benchmark starts the simulator on a free loopback port, waits for it to listen, and
reports nearest-rank percentiles and the process's peak RSS the same way, so its tables can be
read side by side.
"""

from __future__ import annotations

import resource
import socket
import time


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    """Return once 127.0.0.1:`port` accepts connections, or after `timeout` seconds.

    A server that never comes up is not an error here: the run that needs it fails next.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (`pct` in 0–100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
