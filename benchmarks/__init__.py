"""Benchmarks: `python -m benchmarks` prints every table and writes benchmarks/RESULTS.md."""
