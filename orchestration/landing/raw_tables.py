"""The landing tables of schema ``raw``: one per canonical source, ``raw.quarantine`` and
``raw.batches``. Each is created with all its columns; a canonical field added since a warehouse
was made (``ADDED_FIELDS``) is added to its table, empty for the rows landed before. A warehouse from
before ``_flags`` and ``batches.notes`` existed is made anew from its landing folder."""

from __future__ import annotations

import duckdb

from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.sql import quote_ident

RAW_SCHEMA = "raw"
LINEAGE_COLUMNS = {
    "_batch_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_row_number": "BIGINT",
    "_loaded_at": "TIMESTAMP",
    "_source_profile": "VARCHAR",
    "_timezone": "VARCHAR",
    "_original": "JSON",
}
FLAG_COLUMNS = {"_flags": "VARCHAR"}
QUARANTINE_COLUMNS = {
    "batch_id": "VARCHAR",
    "source": "VARCHAR",
    "source_profile": "VARCHAR",
    "source_file": "VARCHAR",
    "row_number": "BIGINT",
    "error_type": "VARCHAR",
    "field": "VARCHAR",
    "reason": "VARCHAR",
    "record": "VARCHAR",
    "loaded_at": "TIMESTAMP",
}
BATCH_COLUMNS = {
    "batch_id": "VARCHAR PRIMARY KEY",
    "source": "VARCHAR",
    "source_profile": "VARCHAR",
    "source_file": "VARCHAR",
    "file_sha256": "VARCHAR",
    "file_bytes": "BIGINT",
    "rows_read": "BIGINT",
    "rows_landed": "BIGINT",
    "rows_quarantined": "BIGINT",
    "loaded_at": "TIMESTAMP",
}
BATCH_EXTRA_COLUMNS = {"notes": "VARCHAR"}
# Canonical fields added after warehouses were made, added to an existing table (empty for the
# rows landed before). Only these: a raw table missing any other column is a broken table, for
# the raw gate's schema expectation to hold, not something landing quietly repairs.
ADDED_FIELDS = {"calls_for_service": ("unit_id", "agency")}


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Create ``raw.<source>``, ``raw.quarantine`` and ``raw.batches`` if they are missing."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    canonical = CANONICAL_SOURCES[source]
    cols = [f"{quote_ident(f)} VARCHAR" for f in canonical.fields]
    cols += [f"{c} {t}" for c, t in {**LINEAGE_COLUMNS, **FLAG_COLUMNS}.items()]
    con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{source} ({', '.join(cols)})")
    for fld in ADDED_FIELDS.get(source, ()):
        con.execute(f"ALTER TABLE {RAW_SCHEMA}.{source} ADD COLUMN IF NOT EXISTS {quote_ident(fld)} VARCHAR")
    for table, spec in (("quarantine", QUARANTINE_COLUMNS), ("batches", {**BATCH_COLUMNS, **BATCH_EXTRA_COLUMNS})):
        body = ", ".join(f"{c} {t}" for c, t in spec.items())
        con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{table} ({body})")
