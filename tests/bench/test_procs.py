"""/proc parsing and the memory summary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import procs


def test_stat_of_a_command_with_spaces_and_parentheses() -> None:
    line = (
        "4242 (python (x) y) S 4200 4242 4200 0 -1 4194560 3000 0 0 0 "
        "150 37 0 0 20 0 3 0 12345 123456789 30000 18446744073709551615"
    )
    stat = procs.parse_stat(line)
    assert (stat.pid, stat.ppid, stat.utime, stat.stime) == (4242, 4200, 150, 37)


def test_own_process_is_found_and_costs_cpu() -> None:
    me = procs.parse_stat(Path(f"/proc/{os.getpid()}/stat").read_text())
    assert me.pid == os.getpid()
    assert me.ppid == os.getppid()
    assert os.getpid() in procs.descendants(os.getppid())
    assert procs.cpu_seconds(os.getpid()) > 0


def test_rss_from_status() -> None:
    status = "Name:\tpython\nVmPeak:\t  200000 kB\nVmRSS:\t  153600 kB\nThreads:\t3\n"
    assert procs.parse_rss_kb(status) == 153600
    assert procs.parse_rss_kb("Name:\tkworker\n") is None


def test_memory_summary_steady_and_growth() -> None:
    mb = 1024
    # two workers, sampled every 10 s for 5 minutes; warm-up 30 s; +8 MB creep overall
    samples = [
        (float(t), {1: (100 + t * 8 // 300) * mb, 2: (110 + t * 8 // 300) * mb})
        for t in range(0, 301, 10)
    ]
    summary = procs.summarise_rss(samples, warmup_s=30, window_s=60)
    assert summary is not None
    assert summary.steady_mb_per_worker == pytest.approx(109, abs=1)
    assert summary.growth_mb == pytest.approx(6, abs=1)
    assert summary.max_mb == pytest.approx(118)
    assert summary.samples == 28


def test_memory_summary_needs_samples() -> None:
    assert procs.summarise_rss([(0.0, {1: 1024})], warmup_s=30, window_s=60) is None
    assert procs.summarise_rss([], warmup_s=0, window_s=60) is None
