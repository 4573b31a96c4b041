"""Which refresh each published copy holds: the serving DuckDB copy, the Parquet export and
PostgreSQL. A summary says when they differ (a copy that failed to publish stays on an older one)."""

from __future__ import annotations

from pathlib import Path

from orchestration.serving.config import ServingConfig, load_serving_config
from orchestration.serving.parquet_export import parquet_refresh_id


def serving_copy_refresh_id(config: ServingConfig) -> str | None:
    from orchestration.serving.serving_copy import open_serving, read_refresh

    if not config.serving_file.exists():
        return None
    con = open_serving(config.serving_file)
    try:
        return read_refresh(con).refresh_id
    finally:
        con.close()


def postgres_refresh_id(config: ServingConfig) -> str | None:
    """From the ``marts`` schema's comment (written in the publish's transaction)."""
    import psycopg

    from orchestration.serving.postgres import SCHEMA_MARK

    if not config.postgres_configured:
        return None
    with psycopg.connect(config.pg_dsn, autocommit=True, connect_timeout=10) as pg:
        row = pg.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = 'marts'"
        ).fetchone()
    comment = (row[0] or "") if row else ""
    if not comment.startswith(SCHEMA_MARK + ": refresh "):
        return None
    return comment.removeprefix(SCHEMA_MARK + ": refresh ").split(" ", 1)[0]


def published_refresh_ids(warehouse_path: str | Path, env: dict[str, str] | None = None) -> dict[str, str | None]:
    """{copy: refresh id it holds, None when it has none / is not configured, or 'unreadable: ...'}."""
    config = load_serving_config(warehouse_path, env)
    out: dict[str, str | None] = {}
    readers = {
        "serving DuckDB copy": serving_copy_refresh_id,
        "Parquet": lambda c: parquet_refresh_id(c.parquet_dir),
        "PostgreSQL": postgres_refresh_id,
    }
    for name, reader in readers.items():
        if name == "PostgreSQL" and not config.postgres_configured:
            continue
        try:
            out[name] = reader(config)
        except Exception as exc:  # a summary line, never a crash of the summary
            out[name] = f"unreadable: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return out


def refresh_summary(ids: dict[str, str | None]) -> list[str]:
    """Lines for the CLI: each copy's refresh id, and a warning when they are not all the same."""
    width = max((len(n) for n in ids), default=0)
    lines = [f"  {name:<{width}}  {rid or '(none)'}" for name, rid in ids.items()]
    if len(set(ids.values())) > 1:
        lines.append("  WARNING: the published copies hold different refreshes; a reader of one sees other data than")
        lines.append("           a reader of another. The copy behind failed to publish: see the run's failed step.")
    return lines
