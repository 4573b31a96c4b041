"""Parquet exports: every mart as Parquet files, with a ``manifest.json`` that names them.

A mart published whole is ``<table>.<fingerprint>.parquet``, also reachable as
``<table>.parquet`` (the same file); a large mart cut by month (``parts.py``) is a folder
``<table>/`` of ``<table>.<YYYY-MM>.<fingerprint>.parquet`` files. A file's name carries the
fingerprint of its rows, so a name means one content: a part whose fingerprint did not change
since the last export is not written again but linked (a hard link) from the previous export.

Each export is assembled in its own version folder and made current by replacing the
``parquet`` symlink in one rename, so a reader never sees a folder with some files of one
refresh and some of another. Every file carries in its Parquet key-value metadata the
fingerprint of its rows and the refresh that wrote it (``psw_fingerprint``, ``psw_refresh_id``);
the manifest names each file with both, so a reader that follows the manifest opens exactly the
rows of the manifest's refresh (the reading rule is in docs/serving.md). The previous version is
kept for readers still in the middle of reading it; older ones are removed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.serving.atomic import fsync_dir, fsync_file, publish_lock, replace_atomically
from orchestration.serving.catalog import MARTS_SCHEMA, Column, Table, list_tables, literal, quote
from orchestration.serving.config import ServingConfig, failpoint
from orchestration.serving.parts import Parts, part_filter, stored_parts, table_parts
from orchestration.serving.serving_copy import SERVING_SCHEMA, open_serving, read_refresh

VERSIONS_DIR = "parquet_versions"
BUILDING_PREFIX = ".building-"
MANIFEST_NAME = "manifest.json"
REFRESH_ID_KEY = "psw_refresh_id"  # in every file's Parquet key-value metadata
FINGERPRINT_KEY = "psw_fingerprint"
_SAFE_NAME = re.compile(r"[A-Za-z0-9_]+")


def publish_parquet(config: ServingConfig) -> dict:
    """Export every mart of the current serving copy; returns the manifest written."""
    with publish_lock(config.serving_dir):
        versions = config.serving_dir / VERSIONS_DIR
        versions.mkdir(parents=True, exist_ok=True)
        for stale in versions.glob(f"{BUILDING_PREFIX}*"):
            shutil.rmtree(stale)  # a publish that died mid-way
        current = config.parquet_dir.resolve() if config.parquet_dir.is_symlink() else None
        con = open_serving(config.serving_file)
        try:
            stamp = read_refresh(con)
            version = f"{stamp.refresh_id}.{uuid.uuid4().hex[:6]}"
            building = versions / f"{BUILDING_PREFIX}{version}"
            building.mkdir()
            stored = stored_parts(con, "warehouse_serving", SERVING_SCHEMA) or {}
            entries = []
            for table in list_tables(con, "warehouse_serving", (MARTS_SCHEMA,)):
                if not _SAFE_NAME.fullmatch(table.name):
                    raise ValueError(f"marts.{table.name}: not a safe file name for a Parquet export")
                parts = stored.get(table.qualified) or table_parts(con, "warehouse_serving", table)
                entries.append(_export_table(con, table, parts, building, current, stamp.refresh_id, version))
        finally:
            con.close()
        manifest = {
            "refresh_id": stamp.refresh_id,
            "version": version,
            "folder": f"{VERSIONS_DIR}/{version}",
            "refreshed_at": stamp.refreshed_at.astimezone(UTC).isoformat(),
            "exported_at": datetime.now(UTC).isoformat(),
            "git_revision": stamp.git_revision,
            "files_written": sum(f["refresh_id"] == stamp.refresh_id for t in entries for f in t["files"]),
            "files_kept": sum(f["refresh_id"] != stamp.refresh_id for t in entries for f in t["files"]),
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


def _export_table(con, table: Table, parts: Parts, building: Path, current: Path | None, refresh_id, version) -> dict:
    """Write (or link, when its fingerprint is unchanged) each part's file; the manifest entry."""
    files = []
    for key, (rows, fingerprint) in parts.parts.items():
        name = f"{table.name}.{fingerprint}.parquet"
        if parts.column:
            name = f"{table.name}/{table.name}.{key}.{fingerprint}.parquet"
        path = building / name
        path.parent.mkdir(exist_ok=True)
        kept = current / name if current else None
        found = _file_metadata(con, kept) if kept and kept.is_file() else {}
        written_by = found.get(REFRESH_ID_KEY)
        if written_by and found.get(FINGERPRINT_KEY) == fingerprint:  # the same rows: link, do not write
            os.link(kept, path)
        else:
            written_by = refresh_id
            metadata = (
                f"{{{REFRESH_ID_KEY}: {literal(refresh_id)}, psw_version: {literal(version)}, "
                f"{FINGERPRINT_KEY}: {literal(fingerprint)}}}"
            )
            con.execute(
                f"COPY (SELECT {_parquet_columns(table.columns)} FROM {quote(MARTS_SCHEMA)}.{quote(table.name)} "
                f"WHERE {part_filter(parts.column, [key])}) "
                f"TO {literal(str(path))} (FORMAT parquet, COMPRESSION zstd, KV_METADATA {metadata})"
            )
            fsync_file(path)
        files.append({"file": name, "part": key, "rows": rows, "fingerprint": fingerprint, "refresh_id": written_by})
        failpoint("parquet_write")
    if parts.column:
        stable = f"{table.name}/"
    else:  # the stable name, for tools that open a fixed path: the same file (a hard link)
        stable = f"{table.name}.parquet"
        os.link(building / files[0]["file"], building / stable)
    # The types a Parquet reader gets, read back from a file.
    written = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(building / files[0]['file']))})")
    docs = {c.name: c.description for c in table.columns}
    return {
        "table": table.name,
        "rows": table.rows,
        "description": table.description,
        "part_column": parts.column,
        "stable_file": stable,
        "files": files,
        "columns": [{"name": n, "type": t, "description": docs.get(n)} for n, t, *_ in written.fetchall()],
    }


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


def _file_metadata(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    rows = con.execute("SELECT decode(key), decode(value) FROM parquet_kv_metadata(?)", [str(path)]).fetchall()
    return dict(rows)


def file_refresh_id(path: Path) -> str | None:
    """The refresh id a Parquet file carries in its key-value metadata (None if it has none)."""
    return file_metadata(path).get(REFRESH_ID_KEY)


def file_metadata(path: Path) -> dict[str, str]:
    """A Parquet file's key-value metadata (the refresh that wrote it, the fingerprint of its rows)."""
    con = duckdb.connect()
    try:
        return _file_metadata(con, path)
    finally:
        con.close()


def parquet_refresh_id(parquet_dir: Path) -> str | None:
    """The refresh the current export holds: its manifest's, checked against every file it names
    (a file whose metadata is not the manifest's is reported as 'mixed: ...'); None when there is
    no export."""
    folder = Path(parquet_dir).resolve()
    if not (folder / MANIFEST_NAME).exists():
        return None
    manifest = read_manifest(folder)
    wrong = []
    for f in (f for t in manifest["tables"] for f in t["files"]):
        found = file_metadata(folder / f["file"])
        if (found.get(REFRESH_ID_KEY), found.get(FINGERPRINT_KEY)) != (f["refresh_id"], f["fingerprint"]):
            wrong.append(f["file"])
    if wrong:
        return f"mixed: manifest {manifest['refresh_id']}, files not of it: {', '.join(sorted(wrong)[:3])}"
    return manifest["refresh_id"]
