"""Quality gates: the Great Expectations suites under ``expectations/``, run by GX on DuckDB as
blocking Dagster asset checks (one per suite, on the suite's asset; ``assets.py``). See
docs/quality_gates.md."""
