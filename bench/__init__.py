"""The benchmark workload and harness; run it as `python bench/run.py`."""
