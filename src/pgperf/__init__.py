"""pgperf: a pytest-based performance-regression suite for the platform's PostgreSQL."""

__version__ = "0.1.0"
