"""The wiring: `container` builds the core services from the settings and the adapters (the
only place that chooses implementations); `profiles` turns settings into token profiles."""
