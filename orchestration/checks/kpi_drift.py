"""KPI drift: an asset check on marts/mart_kpi_drift that names every series drifting off its
usual range in its latest judged week, and records one alert per drift when it starts (sent
after the run by the one alert path; a drift that goes on is not alerted again every refresh).

Which drifts were alerted is kept in the warehouse (``raw.kpi_drift_alerts``: the series and the
first week of the run of weeks outside its range), so a new run of weeks outside alerts again.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from orchestration.automation.alerts import Alert, AlertConfig
from orchestration.automation.run_alerts import alert_metadata
from orchestration.resources import WarehouseResource

DRIFT_KEY = AssetKey(["marts", "mart_kpi_drift"])
LABELS = {
    "median_response_minutes": ("Median response time (received to on scene)", "min"),
    "calls_from_public": ("Calls from the public", "calls a week"),
}

LATEST_DRIFTS = """
WITH latest AS (
    SELECT *, row_number() OVER (
        PARTITION BY city, kpi, priority, district, service_category ORDER BY received_week DESC
    ) AS recency
    FROM marts.mart_kpi_drift
    WHERE position <> 'no baseline'
)
SELECT city, kpi, priority, district, service_category, received_week, kpi_value, expected_low, expected_high,
       position, weeks_outside_in_a_row,
       received_week - CAST(7 * (weeks_outside_in_a_row - 1) AS INTEGER) AS drift_started_week
FROM latest
WHERE recency = 1 AND is_drifting
ORDER BY city, kpi, priority, district, service_category
"""


def drift_sentence(row: tuple) -> str:
    """'Median response time (received to on scene), priority 1, district 3: above its range for 3 weeks (...)'."""
    city, kpi, priority, district, category, week, value, low, high, position, weeks, _ = row
    label, unit = LABELS.get(kpi, (kpi, ""))
    where = [f"priority {priority}" if priority != "all" else "", f"district {district}" if district != "all" else ""]
    where.append(category.replace("_", " ") if category != "all" else "")
    scope = ", ".join(w for w in where if w)
    return (
        f"{city}: {label}{', ' + scope if scope else ''} has been {position} its usual range for {weeks} weeks "
        f"(week of {week}: {value:,.1f} {unit}, usual {low:,.1f}-{high:,.1f})"
    )


def ensure_drift_ledger(con) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute(
        "CREATE TABLE IF NOT EXISTS raw.kpi_drift_alerts (city VARCHAR, kpi VARCHAR, priority VARCHAR, "
        "district VARCHAR, service_category VARCHAR, drift_started_week DATE, alerted_at TIMESTAMP, run_id VARCHAR)"
    )


@asset_check(
    asset=DRIFT_KEY,
    name="kpi_drift",
    blocking=False,
    description="KPIs off their usual range for several weeks in a row (mart_kpi_drift); alerts when a drift starts.",
)
def kpi_drift_check(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
    run_id = context.run.run_id
    with warehouse.connect() as con:
        ensure_drift_ledger(con)
        drifts = con.execute(LATEST_DRIFTS).fetchall()
        new = []
        for row in drifts:
            key = [row[0], row[1], row[2], row[3], row[4], row[11]]
            seen = con.execute(
                "SELECT 1 FROM raw.kpi_drift_alerts WHERE city = ? AND kpi = ? AND priority = ? AND district = ? "
                "AND service_category = ? AND drift_started_week = ?",
                key,
            ).fetchone()
            if not seen:
                new.append(row)
                con.execute("INSERT INTO raw.kpi_drift_alerts VALUES (?, ?, ?, ?, ?, ?, now(), ?)", [*key, run_id])
    sentences = [drift_sentence(r) for r in drifts]
    metadata = {
        "series_drifting": len(drifts),
        "drifts": MetadataValue.md("\n".join(f"- {s}" for s in sentences) or "none"),
    }
    if new:
        config = AlertConfig.from_env()
        alert = Alert(
            event="kpi_drift",
            title=f"{len(new)} KPI(s) off their usual range: " + drift_sentence(new[0])[:160],
            summary="; ".join(drift_sentence(r) for r in new[:10]),
            run_id=run_id,
            run_url=config.run_url(run_id),
            asset="marts/mart_kpi_drift",
            asset_url=config.asset_url("marts/mart_kpi_drift"),
            check="kpi_drift",
            severity="DRIFT",
            counts={"new_drifts": len(new), "series_drifting": len(drifts)},
            failures=[{"expectation": drift_sentence(r), "files": [r[0]]} for r in new],
        )
        metadata.update(alert_metadata(alert))
    return AssetCheckResult(
        passed=not drifts,
        severity=AssetCheckSeverity.WARN,
        metadata=metadata,
        description=(sentences[0] if len(sentences) == 1 else f"{len(sentences)} KPIs drifting") if drifts else None,
    )
