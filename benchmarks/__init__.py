"""Benchmarks of impact: not shipped in the package; run `python -m benchmarks.run_all` from the checkout."""
