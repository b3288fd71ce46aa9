"""Indexes and monitoring: the performance index file, the bench template, monitor, health."""
