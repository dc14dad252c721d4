"""Benchmarks: each scenario against a baseline measured in the same run."""
