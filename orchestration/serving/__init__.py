"""Serving: what BI tools and readers get (serving DuckDB copy, PostgreSQL, Parquet, report); the
assets are listed in ``all_assets.py``."""
