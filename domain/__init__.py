"""The domain: the proposal model, its fields, its status transitions and its rules.

Plain, synchronous Python with no I/O: every other package may import it, it imports none of
them (checked by the import-linter contract in pyproject.toml).
"""
