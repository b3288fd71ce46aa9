"""The edges: the `pgperf` command (one module per command) and the pytest plugin."""
