"""Measurement: the query catalog, parameters, EXPLAIN evidence, the benchmark runner."""
