"""Parquet exports: every mart as ``parquet/<table>.<version>.parquet`` (also reachable as
``parquet/<table>.parquet``, the same file) with a ``manifest.json`` that names the versioned files.

Each export is written into its own version folder and made current by replacing the
``parquet`` symlink in one rename, so a reader never sees a folder with some files of one
refresh and some of another. Every file carries its refresh id in its Parquet key-value
metadata (``psw_refresh_id``), and the manifest names the files by their versioned names, so a
reader that follows the manifest opens files of the manifest's refresh or none (the reading rule
is in docs/serving.md). The previous version is kept for readers still in the middle of reading
it; older ones are removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

from orchestration.serving.atomic import fsync_dir, fsync_file, publish_lock, replace_atomically
from orchestration.serving.catalog import MARTS_SCHEMA, Column, list_tables, literal, quote
from orchestration.serving.config import ServingConfig, failpoint
from orchestration.serving.serving_copy import open_serving, read_refresh

VERSIONS_DIR = "parquet_versions"
BUILDING_PREFIX = ".building-"
MANIFEST_NAME = "manifest.json"
REFRESH_ID_KEY = "psw_refresh_id"  # in every file's Parquet key-value metadata
_SAFE_NAME = re.compile(r"[A-Za-z0-9_]+")


def publish_parquet(config: ServingConfig) -> dict:
    """Export every mart of the current serving copy; returns the manifest written."""
    with publish_lock(config.serving_dir):
        versions = config.serving_dir / VERSIONS_DIR
        versions.mkdir(parents=True, exist_ok=True)
        for stale in versions.glob(f"{BUILDING_PREFIX}*"):
            shutil.rmtree(stale)  # a publish that died mid-way
        con = open_serving(config.serving_file)
        try:
            stamp = read_refresh(con)
            version = f"{stamp.refresh_id}.{uuid.uuid4().hex[:6]}"
            building = versions / f"{BUILDING_PREFIX}{version}"
            building.mkdir()
            entries = []
            for table in list_tables(con, "warehouse_serving", (MARTS_SCHEMA,)):
                if not _SAFE_NAME.fullmatch(table.name):
                    raise ValueError(f"marts.{table.name}: not a safe file name for a Parquet export")
                path = building / f"{table.name}.{version}.parquet"
                metadata = f"{{{REFRESH_ID_KEY}: {literal(stamp.refresh_id)}, psw_version: {literal(version)}}}"
                con.execute(
                    f"COPY (SELECT {_parquet_columns(table.columns)} FROM {quote(MARTS_SCHEMA)}.{quote(table.name)}) "
                    f"TO {literal(str(path))} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {metadata})"
                )
                fsync_file(path)
                # the stable name, for tools that open a fixed path: the same file (a hard link)
                os.link(path, building / f"{table.name}.parquet")
                # The types a Parquet reader gets, read back from the file.
                written = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))})").fetchall()
                docs = {c.name: c.description for c in table.columns}
                entries.append(
                    {
                        "table": table.name,
                        "file": path.name,
                        "stable_file": f"{table.name}.parquet",
                        "rows": table.rows,
                        "description": table.description,
                        "columns": [{"name": n, "type": t, "description": docs.get(n)} for n, t, *_ in written],
                    }
                )
                failpoint("parquet_write")
        finally:
            con.close()
        manifest = {
            "refresh_id": stamp.refresh_id,
            "version": version,
            "folder": f"{VERSIONS_DIR}/{version}",
            "refreshed_at": stamp.refreshed_at.astimezone(UTC).isoformat(),
            "exported_at": datetime.now(UTC).isoformat(),
            "git_revision": stamp.git_revision,
            "tables": entries,
        }
        (building / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
        fsync_file(building / MANIFEST_NAME)
        fsync_dir(building)
        os.rename(building, versions / version)
        fsync_dir(versions)
        previous = _current_version(config.parquet_dir)
        _point_link_at(config.parquet_dir, f"{VERSIONS_DIR}/{version}")
        for old in versions.iterdir():
            if old.name not in (version, previous):
                shutil.rmtree(old)
    return manifest


def _parquet_columns(columns: tuple[Column, ...]) -> str:
    """Select list for the export: 128-bit integers (DuckDB's type for sums of integers) would be
    written as DOUBLE, losing digits; DECIMAL(38,0) keeps them exact and every Parquet reader has it."""
    return ", ".join(
        f"CAST({quote(c.name)} AS DECIMAL(38,0)) AS {quote(c.name)}"
        if c.data_type.upper() in ("HUGEINT", "UHUGEINT")
        else quote(c.name)
        for c in columns
    )


def _current_version(link: Path) -> str | None:
    return Path(os.readlink(link)).name if link.is_symlink() else None


def _point_link_at(link: Path, target: str) -> None:
    """Replace the ``parquet`` symlink in one rename (a real folder left by hand is moved aside once)."""
    if link.exists() and not link.is_symlink():
        link.rename(link.with_name(f"{link.name}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"))
    new_link = link.with_name(f".{link.name}.link-tmp")
    new_link.unlink(missing_ok=True)
    new_link.symlink_to(target, target_is_directory=True)
    replace_atomically(new_link, link)


def read_manifest(parquet_dir: Path) -> dict:
    return json.loads((parquet_dir / MANIFEST_NAME).read_text())


def file_refresh_id(path: Path) -> str | None:
    """The refresh id a Parquet file carries in its key-value metadata (None if it has none)."""
    import duckdb

    con = duckdb.connect()
    try:
        row = con.execute(
            "SELECT decode(value) FROM parquet_kv_metadata(?) WHERE decode(key) = ?", [str(path), REFRESH_ID_KEY]
        ).fetchone()
    finally:
        con.close()
    return row[0] if row else None


def parquet_refresh_id(parquet_dir: Path) -> str | None:
    """The refresh the current export holds: its manifest's, checked against every file it names
    (a file of another refresh is reported as 'mixed: ...'); None when there is no export."""
    folder = Path(parquet_dir).resolve()
    if not (folder / MANIFEST_NAME).exists():
        return None
    manifest = read_manifest(folder)
    found = {file_refresh_id(folder / t["file"]) for t in manifest["tables"]} - {manifest["refresh_id"]}
    if found:
        return f"mixed: manifest {manifest['refresh_id']}, files {', '.join(sorted(map(str, found)))}"
    return manifest["refresh_id"]
