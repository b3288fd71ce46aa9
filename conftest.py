"""Root conftest: wires the suite's pytest plugin; fixtures live in the engine."""

pytest_plugins = ["pgperf.commands.pytest_plugin"]
