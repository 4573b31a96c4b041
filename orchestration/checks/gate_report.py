"""What a gate shows: the check's metadata in the Dagster UI and the alert a person receives."""

from __future__ import annotations

from pathlib import Path

from dagster import MetadataValue

from orchestration.automation.alerts import Alert, AlertConfig
from orchestration.checks.batches import jsonable
from orchestration.checks.outcomes import SuiteOutcome
from orchestration.checks.verdicts import SAMPLE_ROWS, Verdict, outcome_label
from orchestration.settings import PROJECT_ROOT


def md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def suite_metadata(outcomes: SuiteOutcome | list[SuiteOutcome], page: Path | None) -> dict:
    """The expectations the suites evaluated (a raw gate runs its source's and the quarantine's),
    which failed, unexpected counts, the failing files and a sample of failing rows."""
    outcomes = outcomes if isinstance(outcomes, list) else [outcomes]
    main = outcomes[0]
    suite = main.suite
    failed = [o for outcome in outcomes for o in outcome.failed()]
    evaluated = [o for outcome in outcomes for o in outcome.evaluated]
    meta: dict = {
        "suite": ", ".join(o.suite.name for o in outcomes),
        "suite_file": str(suite.path.relative_to(PROJECT_ROOT)) if suite.path else "",
        "table": suite.table,
        "expectations_evaluated": len(evaluated),
        "expectations_failed": len(failed),
        "expectations_failed_critical": sum(len(o.failed("critical")) for o in outcomes),
        "rows_evaluated": main.rows,
        "batches_evaluated": main.batches,
        "elapsed_seconds": round(sum(o.elapsed_seconds for o in outcomes), 3),
        "unexpected_counts": MetadataValue.json(
            {outcome_label(o): o.unexpected_count for o in evaluated if o.unexpected_count or not o.success}
        ),
    }
    if failed:
        table = "| expectation | severity | unexpected | of | where |\n|---|---|---|---|---|\n"
        for o in failed:
            where = ", ".join(str(b["file"]) for b in o.failing_batches[:3]) or (o.error or "")
            table += (
                f"| {md_cell(outcome_label(o))} | {o.expectation.severity} | {o.unexpected_count:,} | "
                f"{o.considered:,} | {md_cell(where)} |\n"
            )
        meta["failed_expectations"] = MetadataValue.md(table)
        meta["failures"] = MetadataValue.json(
            {
                outcome_label(o): {
                    "severity": o.expectation.severity,
                    "unexpected": o.unexpected_count,
                    "of": o.considered,
                    "files": [str(b["file"]) for b in o.failing_batches],
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
                f"**{md_cell(outcome_label(o))}**\n\n| {' | '.join(cols)} |\n|{'---|' * len(cols)}\n"
                + "".join("| " + " | ".join(md_cell(r.get(c)) for c in cols) + " |\n" for r in o.sample)
            )
        if samples:
            meta["failing_sample"] = MetadataValue.md("\n".join(samples))
    skipped = [f"- {outcome_label(o)}: {r}" for outcome in outcomes for o in outcome.outcomes for r in o.skipped]
    if main.skipped_reason:
        skipped.insert(0, f"- whole suite: {main.skipped_reason}")
    if skipped:
        meta["skipped"] = MetadataValue.md("\n".join(skipped))
    if main.parameters:
        meta["parameters"] = MetadataValue.json(main.parameters)
    results = gx_results(outcomes)
    if results:
        meta["gx_validation_results"] = MetadataValue.json(results)
    if page is not None:
        meta["data_docs"] = MetadataValue.path(str(page))
    return meta


GX_RESULT_KEYS = (
    "element_count",
    "missing_count",
    "unexpected_count",
    "unexpected_percent",
    "observed_value",
    "partial_unexpected_list",
    "partial_unexpected_index_list",
    "details",
)


def gx_results(outcomes: list[SuiteOutcome]) -> list[dict]:
    """GX's validation results, one per batch GX validated, in GX's result format: the batch, its
    success and statistics, and each expectation that failed or found something, as GX reported it."""
    out = []
    for outcome in outcomes:
        for label, _key, result in outcome.gx_results:
            shown = []
            for r in result.results:
                res = r.result or {}
                if r.success and not res.get("unexpected_count") and not res.get("observed_value"):
                    continue
                config = r.expectation_config
                kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "unexpected_rows_query")}
                shown.append(
                    {
                        "expectation_type": config.type,
                        "kwargs": kwargs,
                        "severity": getattr(config.severity, "value", config.severity),
                        "success": r.success,
                        "result": jsonable({k: res[k] for k in GX_RESULT_KEYS if k in res}),
                    }
                )
            out.append(
                {
                    "suite": outcome.suite.name,
                    "batch": label,
                    "success": result.success,
                    "statistics": jsonable(dict(result.statistics)),
                    "results": shown,
                }
            )
    return out


def verdicts_markdown(verdicts: list[Verdict], what: str) -> MetadataValue:
    """One row per judged file (or city): its verdict and, when held, why."""
    rows = "".join(
        f"| {md_cell(v.label)} | {'**held**' if v.held else 'passed'} | {md_cell(v.reason())} |\n" for v in verdicts
    )
    return MetadataValue.md(f"| {what} | verdict | why |\n|---|---|---|\n{rows}")


def hold_alert(
    suite_name: str,
    asset: str,
    check: str,
    held: list[Verdict],
    judged: int,
    what: str,
    consequence: str,
    run_id: str | None,
    config: AlertConfig,
    page: Path | None,
) -> Alert:
    """The alert for files (or cities) a gate held: which, and why, with a sample of the rows."""
    names = ", ".join(v.label for v in held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
    return Alert(
        event="gate_held",
        title=f"Quality gate on {asset} held {len(held)} {what}: {names}",
        summary=f"Suite {suite_name} held {len(held)} of {judged} {what} judged on {asset}; {consequence}",
        run_id=run_id,
        run_url=config.run_url(run_id),
        asset=asset,
        asset_url=config.asset_url(asset),
        check=check,
        severity="HELD",
        counts={"judged": judged, "held": len(held)},
        failures=[
            {
                "expectation": f"{v.label}: {f['expectation']}",
                "unexpected_count": f.get("unexpected"),
                "considered": f.get("considered"),
                "files": [v.label],
                "message": f.get("error"),
                "sample": (f.get("sample") or [])[:SAMPLE_ROWS],
            }
            for v in held
            for f in v.failures
        ],
        data_docs=str(page) if page else None,
    )


def warning_alert(outcome: SuiteOutcome, run_id: str | None, config: AlertConfig, page: Path | None) -> Alert:
    """Warnings only (nothing held): sent when PSW_ALERT_ON_WARN is set."""
    suite = outcome.suite
    asset = "/".join(suite.asset_path)
    failed = outcome.failed()
    return Alert(
        event="gate_warned",
        title=f"Quality gate warned: {asset} ({suite.check_name}, WARN)",
        summary=f"{len(failed)} of {len(outcome.evaluated)} expectations of suite {suite.name} warned; the run went on",
        run_id=run_id,
        run_url=config.run_url(run_id),
        asset=asset,
        asset_url=config.asset_url(asset),
        check=suite.check_name,
        severity="WARN",
        counts={"expectations_failed": len(failed), "rows_evaluated": outcome.rows},
        failures=[
            {
                "expectation": outcome_label(o),
                "unexpected_count": o.unexpected_count,
                "considered": o.considered,
                "files": [str(b["file"]) for b in o.failing_batches],
                "sample": o.sample[:SAMPLE_ROWS],
            }
            for o in failed
        ],
        data_docs=str(page) if page else None,
    )
