"""Helpers for the batch-ledger tests: the real Seattle extract, and CSV files written from rows."""

from __future__ import annotations

import csv
from pathlib import Path

from orchestration.settings import PROJECT_ROOT

# The real one-beat Seattle extract (shared/data/real, beside the project; see its README).
SEATTLE_FILE = PROJECT_ROOT.parent / "shared" / "data" / "real" / "seattle_call_data_denny_blaine_2018-2023.csv"


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
