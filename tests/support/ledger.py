"""Helpers for the batch-ledger tests: the real Seattle extract, and CSV files written from rows."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

# The real one-beat Seattle extract (tests/fixtures/seattle, copied from shared/data/real; see the README).
SEATTLE_FILE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "seattle" / "seattle_call_data_denny_blaine_2018-2023.csv"
)


def csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header, data rows) as Python's csv module reads the file (records, not lines)."""
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        return header, [r for r in reader if r]


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


# Columns that differ between two warehouses built from the same files (when rows were landed, admitted
# or placed by their coordinates).
LOAD_TIME_COLUMNS = {"loaded_at", "loaded_through", "batch_id", "admitted_at", "admitted_through", "placed_at"}


def table_rows(con, table: str, exclude: set[str] = LOAD_TIME_COLUMNS) -> list[tuple]:
    """A table's rows without the load-time columns, sorted; sums over the same rows in another
    order differ in the last bits, so floats are compared to 10 significant digits."""
    columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in exclude]
    listed = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f"SELECT {listed} FROM {table}").fetchall()
    rows = [tuple(float(f"{v:.10g}") if isinstance(v, float) else v for v in row) for row in rows]
    return sorted(rows, key=repr)


def marts_differing_from_a_full_rebuild(settings, copy_settings, run_pipeline, monkeypatch) -> list[str]:
    """Rebuild a copy of the warehouse from all of its admitted batches (a full-refresh run) and
    name every mart whose rows differ from the warehouse as it is."""
    import duckdb

    shutil.copytree(settings.landing_dir, copy_settings.landing_dir)
    copy_settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(settings.warehouse_path, copy_settings.warehouse_path)
    rebuilt = run_pipeline(copy_settings, full_refresh=True)
    assert rebuilt.success, [e.message for e in rebuilt.all_events if e.is_failure]
    built = duckdb.connect(str(settings.warehouse_path), read_only=True)
    full = duckdb.connect(str(copy_settings.warehouse_path), read_only=True)
    try:
        marts = [
            r[0]
            for r in full.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
            ).fetchall()
        ]
        assert "fct_calls_for_service" in marts
        return [t for t in marts if table_rows(built, f"marts.{t}") != table_rows(full, f"marts.{t}")]
    finally:
        built.close()
        full.close()


def admit_every_batch(con, actor: str = "test standing in for the raw gates") -> int:
    """Pass every landed batch, as the raw gates would on clean files (for tests that land files
    and build with dbt directly): staging reads admitted batches only. Returns how many."""
    from orchestration.ledger.store import batch_states, ensure_ledger, record_event

    ensure_ledger(con)
    landed = [b for b in batch_states(con) if b.state == "landed"]
    for batch in landed:
        record_event(con, batch.batch_id, "passed", actor=actor)
    return len(landed)
