"""Quality gates: each suite under ``expectations/`` runs as a blocking Dagster asset check on its asset.

- A critical expectation that fails makes the check fail with ERROR severity: the step fails and
  the assets downstream (staging for a raw gate, serving for a mart gate) are not materialised.
- Only warnings failing: the check fails with WARN severity; the run goes on.
- The check's metadata carries what the UI needs to act: the expectations evaluated, which
  failed, unexpected counts, the failing files and a sample of failing rows, the data-docs page.
- On an ERROR (and on WARN with ``PSW_ALERT_ON_WARN=true``) the alert goes to the configured channels.

A raw gate judges each landed file once: the files a suite passed are recorded beside the
warehouse (``<warehouse>.gate-state.json``, with the suite's own text), and the next run judges the
new files only, so a day's refresh does not re-read years of history. Editing the suite, or
``PSW_GATES_FULL=1``, judges every file again; a file that failed or only warned is judged again,
and so is a file landed again into a warehouse made anew (its landing time is part of the record).

The check opens its own read-only DuckDB connection and closes it before returning, so the dbt
step that follows can take the file's write lock.
"""

import hashlib
import json
import os
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from orchestration.automation.alerts import Alert, AlertConfig, send_alert
from orchestration.checks.data_docs import docs_dir, write_data_docs
from orchestration.checks.evaluate import ExpectationOutcome, SuiteOutcome, evaluate_suite
from orchestration.checks.suites import BOUNDARIES, Suite, load_suites
from orchestration.resources import WarehouseResource
from orchestration.settings import PROJECT_ROOT

SAMPLE_ROWS = 5


def outcome_label(o: ExpectationOutcome) -> str:
    sev = o.expectation.severity
    return o.expectation.label + ("" if sev == "critical" else f" [{sev}]")


def failure_summary(o: ExpectationOutcome) -> dict:
    """One failed expectation, as the alert and the metadata show it."""
    return {
        "expectation": outcome_label(o),
        "severity": o.expectation.severity,
        "unexpected_count": o.unexpected_count,
        "considered": o.considered,
        "unexpected_percent": o.unexpected_percent,
        "files": [b["file"] for b in o.failing_batches],
        "sample": o.sample[:SAMPLE_ROWS],
        "error": o.error,
    }


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def gate_metadata(outcome: SuiteOutcome, page: Path | None) -> dict:
    suite = outcome.suite
    failed = outcome.failed()
    evaluated = outcome.evaluated
    meta: dict = {
        "suite": suite.name,
        "suite_file": str(suite.path.relative_to(PROJECT_ROOT)) if suite.path else "",
        "table": suite.table,
        "expectations_evaluated": len(evaluated),
        "expectations_failed": len(failed),
        "expectations_failed_critical": len(outcome.failed("critical")),
        "rows_evaluated": outcome.rows,
        "batches_evaluated": outcome.batches,
        "elapsed_seconds": round(outcome.elapsed_seconds, 3),
        "unexpected_counts": MetadataValue.json(
            {outcome_label(o): o.unexpected_count for o in evaluated if o.unexpected_count or not o.success}
        ),
    }
    if failed:
        table = "| expectation | severity | unexpected | of | failing files |\n|---|---|---|---|---|\n"
        for o in failed:
            files = ", ".join(b["file"] for b in o.failing_batches[:3]) or (o.error or "")
            table += (
                f"| {_md_cell(outcome_label(o))} | {o.expectation.severity} | {o.unexpected_count:,} | "
                f"{o.considered:,} | {_md_cell(files)} |\n"
            )
        meta["failed_expectations"] = MetadataValue.md(table)
        meta["failures"] = MetadataValue.json(
            {
                outcome_label(o): {
                    "severity": o.expectation.severity,
                    "unexpected": o.unexpected_count,
                    "of": o.considered,
                    "files": [b["file"] for b in o.failing_batches],
                    "error": o.error,
                }
                for o in failed
            }
        )
        samples = []
        for o in failed:
            if not o.sample:
                continue
            cols = list(o.sample[0])
            samples.append(
                f"**{_md_cell(outcome_label(o))}**\n\n| {' | '.join(cols)} |\n|{'---|' * len(cols)}\n"
                + "".join("| " + " | ".join(_md_cell(r.get(c)) for c in cols) + " |\n" for r in o.sample)
            )
        if samples:
            meta["failing_sample"] = MetadataValue.md("\n".join(samples))
    skipped = [f"- {outcome_label(o)}: {r}" for o in outcome.outcomes for r in o.skipped]
    if outcome.skipped_reason:
        skipped.insert(0, f"- whole suite: {outcome.skipped_reason}")
    if skipped:
        meta["skipped"] = MetadataValue.md("\n".join(skipped))
    if outcome.parameters:
        meta["parameters"] = MetadataValue.json(outcome.parameters)
    if page is not None:
        meta["data_docs"] = MetadataValue.path(str(page))
    return meta


def gate_alert(
    outcome: SuiteOutcome, severity: str, run_id: str | None, config: AlertConfig, page: Path | None
) -> Alert:
    suite = outcome.suite
    asset = "/".join(suite.asset_path)
    failed = outcome.failed("critical") if severity == "ERROR" else outcome.failed()
    blocked = "downstream assets were not materialised" if severity == "ERROR" else "the run went on"
    return Alert(
        event="gate_failed",
        title=f"Quality gate failed: {asset} ({suite.check_name}, {severity})",
        summary=(
            f"{len(failed)} of {len(outcome.evaluated)} expectations of suite {suite.name} failed on "
            f"{suite.table} ({outcome.rows:,} rows in {outcome.batches:,} batch(es)); {blocked}."
        ),
        run_id=run_id,
        run_url=config.run_url(run_id),
        asset=asset,
        asset_url=config.asset_url(asset),
        check=suite.check_name,
        severity=severity,
        counts={
            "expectations_evaluated": len(outcome.evaluated),
            "expectations_failed": len(failed),
            "unexpected_rows": sum(o.unexpected_count for o in failed),
            "rows_evaluated": outcome.rows,
        },
        failures=[failure_summary(o) for o in failed],
        data_docs=str(page) if page else None,
    )


def gate_state_path(warehouse_path: str | Path) -> Path:
    """Beside the warehouse: the batches each suite passed, with the suite text it passed."""
    path = Path(warehouse_path)
    return path.with_name(path.name + ".gate-state.json")


def _suite_digest(suite: Suite) -> str:
    text = suite.path.read_bytes() if suite.path and suite.path.exists() else repr(suite).encode()
    return hashlib.sha256(text).hexdigest()


def landed_batches(con, suite: Suite) -> dict[str, str]:
    """Each batch of the suite's table as '<rows>@<when it landed>': a file landed again into a new
    warehouse (same content, same batch id) lands at another time, and is judged again there."""
    if not suite.batch_by or not _has_column(con, suite, suite.batch_by):
        return {}
    by = f'"{suite.batch_by}"'
    landed = "max(_loaded_at)::VARCHAR" if _has_column(con, suite, "_loaded_at") else "''"
    sql = f"SELECT {by}, count(*) || '@' || coalesce({landed}, '') FROM {suite.table} GROUP BY {by}"
    return dict(con.execute(sql).fetchall())


def passed_batches(suite: Suite, warehouse_path: str | Path, present: dict[str, str]) -> frozenset[str]:
    """Batches that passed this very suite (same file content) in an earlier run and still hold
    the rows they held then: not judged again. A changed suite, or PSW_GATES_FULL=1, judges every
    batch; so does a batch whose row count changed (raw is append-only: that is an edit), and one
    landed at another time (the warehouse was made anew beside an old state file)."""
    state = gate_state_path(warehouse_path)
    if os.environ.get("PSW_GATES_FULL", "").lower() in ("1", "true", "yes") or not state.exists():
        return frozenset()
    entry = json.loads(state.read_text()).get(suite.name, {})
    if entry.get("suite_sha256") != _suite_digest(suite):
        return frozenset()
    return frozenset(b for b, rows in entry.get("batches", {}).items() if present.get(b) == rows)


def record_passed_batches(suite: Suite, warehouse_path: str | Path, present: dict[str, str]) -> None:
    state = gate_state_path(warehouse_path)
    data = json.loads(state.read_text()) if state.exists() else {}
    data[suite.name] = {"suite_sha256": _suite_digest(suite), "batches": dict(sorted(present.items()))}
    state.write_text(json.dumps(data, indent=1))


def run_gate(suite: Suite, warehouse: WarehouseResource, run_id: str | None, log=None) -> AssetCheckResult:
    """Evaluate the suite, write its data docs, alert if it failed, and return the check result.
    Batched suites (raw tables, by landed file) judge only the files no earlier run passed."""
    with warehouse.connect(read_only=True) as con:
        present = landed_batches(con, suite)
        skip = passed_batches(suite, warehouse.path, present) if present else frozenset()
        outcome = evaluate_suite(con, suite, skip_batches=skip)
    config = AlertConfig.from_env()
    page = None
    try:
        page = write_data_docs(outcome, docs_dir(warehouse.path), run_id, config.run_url(run_id))
    except OSError as exc:  # the gate's verdict matters more than its web page
        if log:
            log.warning(f"data docs for {suite.name} not written: {exc}")
    if not outcome.success:
        passed, severity = False, AssetCheckSeverity.ERROR
    elif outcome.failed("warning"):
        passed, severity = False, AssetCheckSeverity.WARN
    else:
        passed, severity = True, AssetCheckSeverity.ERROR
    metadata = gate_metadata(outcome, page)
    if suite.batch_by and present:
        metadata["batches_judged_earlier"] = len(skip)
        if passed:  # warnings too are judged again next time, so they stay in sight
            record_passed_batches(suite, warehouse.path, present)
    if not passed and (severity == AssetCheckSeverity.ERROR or config.alert_on_warn):
        deliveries = send_alert(gate_alert(outcome, severity.value, run_id, config, page), config)
        metadata["alerts"] = MetadataValue.json(
            {d.channel: ("delivered" if d.ok else "FAILED: ") + ("" if d.ok else d.detail) for d in deliveries}
        )
        if log:
            for d in deliveries:
                (log.info if d.ok else log.warning)(f"alert via {d.channel}: {d.detail}")
    failed = outcome.failed()
    description = (
        f"{len(failed)} of {len(outcome.evaluated)} expectations failed: "
        + "; ".join(f"{outcome_label(o)} ({o.unexpected_count:,} unexpected)" for o in failed[:3])
        if failed
        else (outcome.skipped_reason or f"all {len(outcome.evaluated)} expectations passed")
    )
    return AssetCheckResult(passed=passed, severity=severity, metadata=metadata, description=description[:1000])


def _has_column(con, suite: Suite, column: str) -> bool:
    return bool(
        con.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = ? AND table_name = ? AND column_name = ?",
            [suite.schema, suite.relation, column],
        ).fetchone()
    )


def build_gate(suite: Suite) -> AssetChecksDefinition:
    """The blocking asset check for one suite."""

    @asset_check(
        asset=AssetKey(list(suite.asset_path)),
        name=suite.check_name,
        blocking=True,
        description=f"Quality gate ({BOUNDARIES[suite.boundary]}): GX suite {suite.name}, "
        f"{len(suite.expectations)} expectations. {suite.notes}",
        metadata={
            "suite": suite.name,
            "suite_file": str(suite.path.relative_to(PROJECT_ROOT)) if suite.path else "",
            "expectations": len(suite.expectations),
        },
    )
    def _gate(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        return run_gate(suite, warehouse, context.run.run_id, context.log)

    return _gate


def build_gates(asset_keys: set[AssetKey], suites: list[Suite] | None = None) -> list[AssetChecksDefinition]:
    """A gate for every suite whose asset is in the graph. A mart suite whose model does not exist
    yet gets its gate as soon as the model is in the dbt project (the next definitions load)."""
    suites = load_suites() if suites is None else suites
    return [build_gate(s) for s in suites if AssetKey(list(s.asset_path)) in asset_keys]
