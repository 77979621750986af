"""gatepass's benchmark suite: `bench/run` (see docs/performance.md)."""
