"""The area boundaries as a Dagster asset (``raw/area_boundaries``, the key of the dbt source) and
its gate as an asset check.

It lands after the records (calls, crimes, stops, 311), so the gate can check that every beat
they name has a polygon. A file that fails is not admitted (staging keeps the city's last file
that passed); the check fails with WARN severity so the other cities and sources go on.
"""

import json
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    asset_check,
    multi_asset,
)

from orchestration.boundaries.crosswalk import build_crosswalks
from orchestration.boundaries.land import ensure_boundary_tables, land_boundaries
from orchestration.boundaries.placing import place_records
from orchestration.report.config import dbt_vars
from orchestration.resources import LandingResource, WarehouseResource

AREA_BOUNDARIES_KEY = AssetKey(["raw", "area_boundaries"])
BOUNDARY_BATCHES_KEY = AssetKey(["raw", "area_boundary_batches"])
RECORD_PLACES_KEY = AssetKey(["raw", "record_places"])
PLACEMENT_BATCHES_KEY = AssetKey(["raw", "record_placement_batches"])
CROSSWALK_KEY = AssetKey(["raw", "area_crosswalk"])
AFTER = [AssetKey(["raw", s]) for s in ("calls_for_service", "incidents", "stops", "service_requests")]


@multi_asset(
    specs=[
        AssetSpec(
            key=AREA_BOUNDARIES_KEY,
            deps=AFTER,
            group_name="raw",
            kinds={"duckdb", "geojson"},
            description=(
                "Area polygons (beats, districts, tracts) from GeoJSON, one row per area per landed file, "
                "reprojected to longitude/latitude, with lineage (profiles: orchestration/source_profiles/boundaries/)."
            ),
        ),
        AssetSpec(
            key=BOUNDARY_BATCHES_KEY,
            deps=AFTER,
            group_name="raw",
            kinds={"duckdb"},
            description="One row per landed boundary file: features read, landed, quarantined, and the gate's verdict.",
        ),
        AssetSpec(
            key=RECORD_PLACES_KEY,
            deps=AFTER,
            group_name="raw",
            kinds={"duckdb"},
            description=(
                "Records placed by their coordinates in the city's beats (point in polygon, vectorised): those "
                "placed, re-placed from an unknown beat, in another beat than reported, or unplaceable; "
                "raw.record_placement_batches counts each placement per landed file (boundaries/placing.py)."
            ),
        ),
        AssetSpec(
            key=PLACEMENT_BATCHES_KEY,
            deps=AFTER,
            group_name="raw",
            kinds={"duckdb"},
            description="Per landed file of records: how many were placed, re-placed, flagged or unplaceable.",
        ),
        AssetSpec(
            key=CROSSWALK_KEY,
            deps=AFTER,
            group_name="raw",
            kinds={"duckdb"},
            description=(
                "Area-weighted crosswalk from census tracts (with residents) to beats, rebuilt from the admitted "
                "boundaries (orchestration/boundaries/crosswalk.py): census denominators for per-capita rates."
            ),
        ),
    ],
    name="land_area_boundaries",
)
def area_boundaries(context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource):
    tolerance = float(dbt_vars()["boundary_gap_overlap_tolerance"])
    with warehouse.connect() as con:
        landings, verdicts, errors = land_boundaries(
            con, Path(landing.landing_dir), Path(landing.profiles_dir), tolerance
        )
        placed = place_records(con)
        crosswalks = build_crosswalks(con)
    for error in errors:
        context.log.warning(f"boundary profile disabled: {error}")
    for landed in landings:
        if landed.refused:
            context.log.warning(f"{landed.file}: refused, {landed.refused}")
    new = [x for x in landings if not x.already_landed and not x.refused]
    yield MaterializeResult(asset_key=CROSSWALK_KEY, metadata={"rows_by_city": MetadataValue.json(crosswalks)})
    yield MaterializeResult(asset_key=PLACEMENT_BATCHES_KEY, metadata={"files_placed": len(placed)})
    yield MaterializeResult(
        asset_key=RECORD_PLACES_KEY,
        metadata={
            "files_placed": len(placed),
            "per_file": MetadataValue.md(
                "| file | placed | re-placed | in another beat | outside every beat | unplaceable |\n"
                "|---|---|---|---|---|---|\n"
                + "".join(
                    f"| {file} | {c['placed']} | {c['re_placed']} | {c['elsewhere']} | {c['outside']} "
                    f"| {c['unplaceable']} |\n"
                    for (_, file), c in sorted(placed.items())
                )
            ),
        },
    )
    yield MaterializeResult(
        asset_key=BOUNDARY_BATCHES_KEY,
        metadata={"files": len(landings), "refused": sum(1 for x in landings if x.refused)},
    )
    yield MaterializeResult(
        asset_key=AREA_BOUNDARIES_KEY,
        metadata={
            "files_landed": len(new),
            "areas_landed": sum(x.features_landed for x in new),
            "features_quarantined": sum(x.features_quarantined for x in new),
            "files_refused": MetadataValue.md("\n".join(f"- {x.file}: {x.refused}" for x in landings if x.refused)),
            "gate": MetadataValue.md(
                "\n".join(
                    f"- {profile}: {'passed' if all(o.passed for o in outcomes) else 'held'}"
                    for profile, outcomes in verdicts.items()
                )
            ),
        },
    )


@asset_check(asset=AREA_BOUNDARIES_KEY, name="boundaries_gate", blocking=False)
def boundaries_gate(warehouse: WarehouseResource) -> AssetCheckResult:
    """Each profile's latest boundary file: valid polygons, unique ids, no gaps or overlaps beyond the
    tolerance (dbt var boundary_gap_overlap_tolerance), every beat of the city's records present."""
    with warehouse.connect() as con:
        ensure_boundary_tables(con)
        latest = con.execute(
            "SELECT source_profile, source_file, gate_passed, gate_outcomes FROM raw.area_boundary_batches "
            "QUALIFY row_number() OVER (PARTITION BY source_profile ORDER BY loaded_at DESC) = 1 ORDER BY 1"
        ).fetchall()
    failures = {}
    for profile, file, passed, outcomes in latest:
        if not passed:
            failing = [o for o in json.loads(outcomes or "[]") if not o["passed"]]
            failures[f"{profile} ({file})"] = "; ".join(f"{o['check']}: {o['detail']}" for o in failing)
    return AssetCheckResult(
        passed=not failures,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "files_judged": len(latest),
            "held": MetadataValue.md("\n".join(f"- {k}: {v}" for k, v in failures.items()) or "none"),
        },
    )
