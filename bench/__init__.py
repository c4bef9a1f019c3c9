"""Benchmark of the mock server (not part of the test suite): see bench/README.md."""
