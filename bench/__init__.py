"""Benchmarks: numbers to watch, not pass/fail tests. Run with `make bench`."""
