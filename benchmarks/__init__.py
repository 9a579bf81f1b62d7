"""Performance benchmarks for Omtanke: turn latency, storage scale, load and start-up.

Run ``python -m benchmarks`` (or ``python benchmarks/run.py``); ``--quick`` is a smoke run.
"""
