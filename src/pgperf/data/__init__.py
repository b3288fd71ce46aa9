"""Data: the databases pgperf owns, the platform schema, seeding, the template lifecycle."""
