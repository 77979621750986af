"""Operations outside the core: Prometheus metrics, structured logs, housekeeping."""
