"""Commands of the project that run offline: the mock-run harness and what is built on it."""
