"""Benchmark and soak of the scoring service: `make bench`, `make soak` (see run.py and soak.py)."""
