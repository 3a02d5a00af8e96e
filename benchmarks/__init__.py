"""Benchmarks: run them from the repo root, e.g. ``python -m benchmarks.scheduler_step_cost``."""
