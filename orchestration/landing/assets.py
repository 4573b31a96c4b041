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
    AssetObservation,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from orchestration.automation.alerts import Alert, AlertConfig
from orchestration.automation.run_alerts import alert_metadata
from orchestration.boundaries.profile import boundary_files
from orchestration.landing.canonical import CANONICAL_SOURCES
from orchestration.landing.coverage import write_coverage
from orchestration.landing.discovery import unmatched_files
from orchestration.landing.loader import LandingError, LandingResult, ensure_raw_tables, refused_batch_id
from orchestration.landing.lookups import land_lookups
from orchestration.landing.parallel import land_files
from orchestration.landing.socrata import PullError, pull
from orchestration.ledger.landing import LandingReport, record_landed, record_refusal, shown_path
from orchestration.ledger.store import ensure_ledger
from orchestration.resources import LandingResource, WarehouseResource

QUARANTINE_KEY = AssetKey(["raw", "quarantine"])
SOURCE_PROFILES_KEY = AssetKey(["raw", "source_profiles"])
BATCH_STATES_KEY = AssetKey(["raw", "batch_states"])
LOOKUP_VALUES_KEY = AssetKey(["raw", "lookup_values"])
LOOKUP_BATCHES_KEY = AssetKey(["raw", "lookup_batches"])
LOOKUP_FIELDS_KEY = AssetKey(["raw", "lookup_fields"])
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
        key=BATCH_STATES_KEY,
        description=(
            "The batch ledger: every file's state (landed, passed, held, released, dropped, superseded, refused, "
            "unmatched) with why; staging reads passed and released files only (orchestration/ledger)."
        ),
        group_name="raw",
        kinds={"duckdb"},
        skippable=True,
    ),
    AssetSpec(
        key=LOOKUP_VALUES_KEY,
        description=(
            "Lookup files a profile joins to its records (locations, code tables): one row per key x field "
            "with file and line; raw.lookup_batches judges each file, staging joins the latest that passed "
            "(orchestration/landing/lookups.py)."
        ),
        group_name="raw",
        kinds={"duckdb", "csv"},
        skippable=True,
    ),
    AssetSpec(
        key=LOOKUP_BATCHES_KEY,
        description="One row per landed lookup file: rows read, landed and quarantined, keys, and its verdict.",
        group_name="raw",
        kinds={"duckdb"},
        skippable=True,
    ),
    AssetSpec(
        key=LOOKUP_FIELDS_KEY,
        description="Per profile: the record column that holds each lookup's key, and the fields the lookup fills.",
        group_name="raw",
        kinds={"duckdb", "yaml"},
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
    """Land every new file in the landing folder through the profile whose pattern it matches.

    A file refused whole, or read by no profile, is recorded in the ledger (and alerted the
    first time) and holds back nothing else: the other files land and the run goes on."""
    landing_dir = Path(landing.landing_dir)
    profiles = landing.profiles()
    run_id = context.run.run_id
    report = LandingReport()
    # A profile that does not load is disabled alone: reported in the log and in every raw
    # asset's metadata (the CLI summary lists it too); the other profiles land.
    disabled = [f"profile disabled: {error}" for _path, error in profiles.errors]
    for message in disabled:
        context.log.error(message)
    selected = {key.path[1] for key in context.selected_asset_keys}
    for profile in profiles.values():
        if profile.api is not None and profile.source in selected:
            try:
                pulled = pull(profile, landing_dir)
            except PullError as exc:
                context.log.error(str(exc))
                report.refused.append((f"{profile.name} (API pull)", f"pull failed: {exc}", True))
                continue
            context.log.info(
                f"{profile.name}: pulled {pulled.rows:,} rows in {len(pulled.pages)} page(s) from {pulled.url}; "
                f"cursor {pulled.cursor_before} -> {pulled.cursor_after}"
            )
    with warehouse.connect() as con:
        if "lookup_values" in selected:
            yield from _land_lookups(context, con, profiles, landing_dir, report, selected)
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
            refused_before = len(report.refused)
            for _ in range(sum(profile.source == source for _, profile in files)):
                path, profile, outcome = next(landed)
                shown = shown_path(path, landing_dir)
                if isinstance(outcome, LandingError):
                    context.log.error(str(outcome))
                    batch_id = refused_batch_id(path, profile.name)
                    first = record_refusal(
                        con, batch_id, "refused", shown, str(outcome), run_id, profile.source, profile.name
                    )
                    report.refused.append((shown, str(outcome), first))
                    continue
                results.append(outcome)
                if not outcome.already_landed:
                    report.landed.append(outcome.batch_id)
                    report.superseded += record_landed(
                        con, outcome.batch_id, profile.source, profile.name, outcome.source_file, run_id
                    )
                    context.log.info(
                        f"{outcome.source_file}: read {outcome.rows_read:,}, landed {outcome.rows_landed:,}, "
                        f"quarantined {outcome.rows_quarantined:,}"
                    )
            metadata = summarise(results)
            if disabled:
                metadata["disabled_profiles"] = MetadataValue.md("\n".join(f"- {m}" for m in disabled))
            metadata["rows_in_table"] = con.execute(f"SELECT count(*) FROM raw.{source}").fetchone()[0]
            refused_here = report.refused[refused_before:]
            metadata["files_refused"] = len(refused_here)
            if refused_here:
                metadata["refused"] = MetadataValue.md("\n".join(f"- **{f}**: {why}" for f, why, _ in refused_here))
            if report.superseded:
                metadata["superseded"] = MetadataValue.md(
                    "\n".join(f"- {f}: held batch {old} superseded by {new}" for old, new, f in report.superseded)
                )
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
        if selected >= set(CANONICAL_SOURCES):  # only a whole landing run knows every file a profile reads
            read = [p for p, _ in files] + boundary_files(landing_dir, Path(landing.profiles_dir))
            read += [p for profile in profiles.values() for p in profile.lookup_files(landing_dir)]
            for path in unmatched_files(landing_dir, read):
                shown = shown_path(path, landing_dir)
                reason = "no source profile's files pattern matches it (see orchestration/source_profiles/README.md)"
                first = record_refusal(con, refused_batch_id(path, "unmatched"), "unmatched", shown, reason, run_id)
                report.unmatched.append((shown, first))
                context.log.warning(f"{shown}: not landed, {reason}")
        if "batch_states" in selected:
            yield MaterializeResult(asset_key=BATCH_STATES_KEY, metadata=_ledger_metadata(con, report))
    alert = refusal_alert(report, run_id)
    if alert is not None:
        context.log_event(AssetObservation(asset_key=BATCH_STATES_KEY, metadata=alert_metadata(alert)))


def _land_lookups(context, con, profiles, landing_dir: Path, report: LandingReport, selected: set[str]):
    landed, judged = land_lookups(con, profiles, landing_dir)
    for outcome in landed:
        if outcome.refused:
            context.log.error(outcome.refused)
            report.refused.append((outcome.source_file, outcome.refused, True))
        elif not outcome.already_landed:
            context.log.info(
                f"{outcome.source_file} (lookup {outcome.source_profile}.{outcome.lookup_name}): read "
                f"{outcome.rows_read:,}, landed {outcome.rows_landed:,}, quarantined {outcome.rows_quarantined:,}"
            )
    for prof, name, shown, reason in judged:
        if reason:
            context.log.warning(f"{shown} (lookup {prof}.{name}) not joined: {reason}; the last file that passed is")
    if "lookup_batches" in selected:
        yield MaterializeResult(asset_key=LOOKUP_BATCHES_KEY, metadata={"files": len(judged)})
    if "lookup_fields" in selected:
        fields = con.execute("SELECT count(*) FROM raw.lookup_fields").fetchone()[0]
        yield MaterializeResult(asset_key=LOOKUP_FIELDS_KEY, metadata={"fields_filled_by_lookups": fields})
    yield MaterializeResult(
        asset_key=LOOKUP_VALUES_KEY,
        metadata={
            "files_landed": sum(1 for o in landed if not o.already_landed and not o.refused),
            "files_refused": sum(1 for o in landed if o.refused),
            "latest_files": MetadataValue.md(
                "| profile | lookup | file | verdict |\n|---|---|---|---|\n"
                + "".join(f"| {p} | {n} | {f} | {r or 'joined'} |\n" for p, n, f, r in judged)
            ),
        },
    )


def _ledger_metadata(con, report: LandingReport) -> dict:
    """What the ledger holds after landing: files per state, and every file kept out, with why."""
    ensure_ledger(con)
    counts = dict(con.execute("SELECT state, count(*) FROM raw.batch_states GROUP BY 1 ORDER BY 1").fetchall())
    out = con.execute(
        "SELECT source_file, state, coalesce(reason, '') FROM raw.batch_states "
        "WHERE state IN ('held', 'refused', 'unmatched') ORDER BY state, source_file"
    ).fetchall()
    return {
        "files_by_state": MetadataValue.json(counts),
        "files_landed_now": len(report.landed),
        "files_kept_out": MetadataValue.md(
            "| file | state | why |\n|---|---|---|\n"
            + "".join(f"| {f} | {st} | {why[:300].replace('|', '/')} |\n" for f, st, why in out)
            if out
            else "None: every file in the landing folder landed (and is judged by its raw gate)."
        ),
    }


def refusal_alert(report: LandingReport, run_id: str | None) -> Alert | None:
    """One alert for files refused or unread that no earlier run has alerted about (sent after
    the run, by the one alert path: orchestration/automation/run_alerts.py)."""
    refused = [(f, why) for f, why, first in report.refused if first]
    unmatched = [f for f, first in report.unmatched if first]
    if not refused and not unmatched:
        return None
    config = AlertConfig.from_env()
    failures = [{"step": f, "message": why} for f, why in refused] + [
        {"step": f, "message": "no source profile reads this file"} for f in unmatched
    ]
    return Alert(
        event="files_not_landed",
        title=f"{len(refused) + len(unmatched)} file(s) in the landing folder were not landed",
        summary=(
            f"{len(refused)} refused, {len(unmatched)} read by no profile; every other file landed and the "
            "refresh went on. Fix the file or its profile, or drop it: python -m orchestration.cli batches drop"
        ),
        run_id=run_id,
        run_url=config.run_url(run_id),
        asset="raw",
        counts={"refused": len(refused), "unmatched": len(unmatched)},
        failures=failures,
    )
