"""Reading a sample file into the throw-away warehouse: its encoding, dialect and header sniffed,
its first records as text in a table of their own."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.landing import csvfile
from orchestration.landing.dialect import sniff_dialect, sniff_encoding
from orchestration.sql import quote_ident, quote_literal

SAMPLE_ROWS = 5000


@dataclass(frozen=True)
class SampleFile:
    path: Path
    table: str
    encoding: str
    delimiter: str
    quote: str
    line_endings: str
    header: list[str]
    rows: int


def read_sample(con: duckdb.DuckDBPyConnection, path: Path, table: str = "sample") -> SampleFile:
    """Sniff the file and load its first SAMPLE_ROWS records, every column as text, into ``table``."""
    path = Path(path)
    encoding = sniff_encoding(path)
    sample_text = csvfile.sample_records(path, encoding if encoding != "utf-16" else "utf-16")
    delimiter, quote = sniff_dialect(sample_text)
    header = [h.strip() for h in next(csv.reader([sample_text.splitlines()[0]], delimiter=delimiter, quotechar=quote))]
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    endings = "CR LF" if b"\r\n" in head else "LF"
    with tempfile.TemporaryDirectory() as tmp:
        readable = path
        if csvfile.needs_transcoding(encoding):
            readable = Path(tmp) / "sample_utf8.csv"
            csvfile.transcode_to_utf8(path, encoding, readable)
        duck_encoding = "latin-1" if encoding == "latin-1" else "utf-8"
        columns = "{" + ", ".join(f"{quote_literal(h)}: 'VARCHAR'" for h in header) + "}"
        con.execute(
            f"CREATE OR REPLACE TABLE {quote_ident(table)} AS SELECT * FROM read_csv(?, header=true, "
            f"auto_detect=false, columns={columns}, delim=?, quote=?, escape=?, encoding='{duck_encoding}', "
            f"ignore_errors=true, null_padding=true) LIMIT {SAMPLE_ROWS}",
            [str(readable), delimiter, quote, quote],
        )
    rows = con.execute(f"SELECT count(*) FROM {quote_ident(table)}").fetchone()[0]
    return SampleFile(path, table, encoding, delimiter, quote, endings, header, rows)
