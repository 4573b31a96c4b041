"""Raw-landing assets: one asset per canonical source, keyed ``raw/<source>`` like the dbt sources.

All sources land in one step (a multi-asset that can be subset), because DuckDB takes one
writer at a time: parallel landing steps would fight over the file's lock. Within the step, files
land side by side through cursors of the one connection (``land_files``). Profiles with an
``api`` section are pulled first (orchestration/landing/socrata.py), into the landing folder.
``raw/source_profiles`` says which canonical fields each profile provides (coverage.py).
"""

from collections import Counter
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from orchestration.engines import current_target, hand_raw_to_target
from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.coverage import write_coverage
from orchestration.landing.loader import LandingError, LandingResult, ensure_raw_tables
from orchestration.landing.parallel import land_files
from orchestration.landing.socrata import PullError, pull
from orchestration.resources import LandingResource, WarehouseResource

QUARANTINE_KEY = AssetKey(["raw", "quarantine"])
SOURCE_PROFILES_KEY = AssetKey(["raw", "source_profiles"])
RAW_SPECS = [
    AssetSpec(
        key=AssetKey(["raw", name]),
        description=f"{source.description} Landed as received, with lineage, through the source profiles.",
        group_name="raw",
        kinds={"duckdb", "csv"},
        skippable=True,
    )
    for name, source in CANONICAL_SOURCES.items()
] + [
    AssetSpec(
        key=QUARANTINE_KEY,
        description="Rows that could not be landed, with file, line, field and reason.",
        group_name="raw",
        kinds={"duckdb"},
        skippable=True,
    ),
    AssetSpec(
        key=SOURCE_PROFILES_KEY,
        description=(
            "Which canonical fields each source profile provides, from which columns, and which it lacks "
            "(one row per profile x field), so that marts can say 'not available' instead of zero."
        ),
        group_name="raw",
        kinds={"duckdb", "yaml"},
        skippable=True,
    ),
]


def summarise(results: list[LandingResult]) -> dict:
    """Asset metadata: the counts that must reconcile, and what happened to each file."""
    landed = [r for r in results if not r.already_landed]
    reasons: Counter = Counter()
    for r in landed:
        reasons.update(r.quarantine_reasons)
    flags: Counter = Counter()
    for r in landed:
        flags.update(r.flags)
    table = "| file | profile | read | landed | quarantined | notes |\n|---|---|---|---|---|---|\n" + "".join(
        f"| {r.source_file} | {r.source_profile} | {r.rows_read} | {r.rows_landed} | {r.rows_quarantined} "
        f"| {'; '.join(r.notes)} |\n"
        for r in landed
    )
    return {
        "files_landed": len(landed),
        "files_already_landed": len(results) - len(landed),
        "rows_read": sum(r.rows_read for r in landed),
        "rows_landed": sum(r.rows_landed for r in landed),
        "rows_quarantined": sum(r.rows_quarantined for r in landed),
        "quarantine_reasons": MetadataValue.json(dict(reasons)),
        "flagged_rows": MetadataValue.json(dict(flags)),
        "files": MetadataValue.md(table if landed else "No new files."),
    }


@multi_asset(specs=RAW_SPECS, can_subset=True, name="land_raw_extracts")
def land_raw_extracts(context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource):
    """Land every new file in the landing folder through the profile whose pattern it matches."""
    landing_dir = Path(landing.landing_dir)
    profiles = landing.profiles()
    refused: list[str] = []
    # A profile that does not load is disabled alone: reported here, in every raw asset's
    # metadata and in the run's failure; the other profiles land.
    disabled = [f"profile disabled: {error}" for _path, error in profiles.errors]
    for message in disabled:
        context.log.error(message)
    refused += disabled
    selected = {key.path[1] for key in context.selected_asset_keys}
    for profile in profiles.values():
        if profile.api is not None and profile.source in selected:
            try:
                pulled = pull(profile, landing_dir)
            except PullError as exc:
                context.log.error(str(exc))
                refused.append(f"{profile.name}: pull failed: {exc}")
                continue
            context.log.info(
                f"{profile.name}: pulled {pulled.rows:,} rows in {len(pulled.pages)} page(s) from {pulled.url}; "
                f"cursor {pulled.cursor_before} -> {pulled.cursor_after}"
            )
    with warehouse.connect() as con:
        sources = [source for source in CANONICAL_SOURCES if source in selected]
        files = [
            (path, profile)
            for source in sources
            for profile in profiles.values()
            if profile.source == source
            for path in profile.matching_files(landing_dir)
        ]
        for source in sources:
            ensure_raw_tables(con, source)
        landed = land_files(con, files, landing_dir)
        for source in sources:
            results: list[LandingResult] = []
            for _ in range(sum(profile.source == source for _, profile in files)):
                path, profile, outcome = next(landed)
                if isinstance(outcome, LandingError):
                    context.log.error(str(outcome))
                    refused.append(str(outcome))
                    continue
                results.append(outcome)
                if not outcome.already_landed:
                    context.log.info(
                        f"{outcome.source_file}: read {outcome.rows_read:,}, landed {outcome.rows_landed:,}, "
                        f"quarantined {outcome.rows_quarantined:,}"
                    )
            metadata = summarise(results)
            if disabled:
                metadata["disabled_profiles"] = MetadataValue.md("\n".join(f"- {m}" for m in disabled))
            metadata["rows_in_table"] = con.execute(f"SELECT count(*) FROM raw.{source}").fetchone()[0]
            yield MaterializeResult(asset_key=AssetKey(["raw", source]), metadata=metadata)
        landed.close()  # every file is done: restores DuckDB's memory cap
        if "quarantine" in selected:
            ensure_raw_tables(con, "calls_for_service")
            by_kind = con.execute(
                "SELECT source, error_type, count(*) FROM raw.quarantine GROUP BY ALL ORDER BY ALL"
            ).fetchall()
            sample = con.execute(
                "SELECT source_file, row_number, field, reason FROM raw.quarantine "
                "ORDER BY loaded_at DESC, source_file, row_number LIMIT 10"
            ).fetchall()
            yield MaterializeResult(
                asset_key=QUARANTINE_KEY,
                metadata={
                    "rows_quarantined": sum(n for *_, n in by_kind),
                    "by_source_and_error": MetadataValue.md(
                        "| source | error | rows |\n|---|---|---|\n"
                        + "".join(f"| {s} | {e} | {n} |\n" for s, e, n in by_kind)
                    ),
                    "latest_sample": MetadataValue.md(
                        "| file | line | field | reason |\n|---|---|---|---|\n"
                        + "".join(f"| {f} | {r} | {fld} | {why} |\n" for f, r, fld, why in sample)
                    ),
                },
            )
        if "source_profiles" in selected:
            rows = write_coverage(con, profiles)
            lacking = con.execute(
                "SELECT source_profile, string_agg(canonical_field, ', ' ORDER BY canonical_field) "
                "FROM raw.source_profiles WHERE is_provided = 'false' GROUP BY 1 ORDER BY 1"
            ).fetchall()
            yield MaterializeResult(
                asset_key=SOURCE_PROFILES_KEY,
                metadata={
                    "rows": rows,
                    "profiles": len(profiles),
                    "fields_lacking": MetadataValue.md(
                        "| profile | lacks |\n|---|---|\n" + "".join(f"| {p} | {f} |\n" for p, f in lacking)
                    ),
                },
            )
        handed = hand_raw_to_target(con)
        if handed:
            context.log.info(f"raw tables handed to the {current_target()} target: {handed}")
    if refused:
        raise Failure(
            description=f"{len(refused)} file(s) or profile(s) refused; the other files were landed.",
            metadata={"refused": MetadataValue.md("\n".join(f"- {m}" for m in refused))},
        )
