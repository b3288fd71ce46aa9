"""Load scenarios: open-model arrivals through a pool, the server's view, the diagnosis."""
