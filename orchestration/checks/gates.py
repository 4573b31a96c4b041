"""Quality gates: each suite under ``expectations/`` runs as an asset check on its asset.

A gate judges **each landed file** (raw) or **each city** (marts) on its own, and holds back only
what fails; everything else goes on through the build and publishing in the same run.

- Raw gates judge the batches in the ledger that no gate has judged yet (or that another version
  of the suite judged, or every batch with ``PSW_GATES_FULL=1``), with the source's suite and the
  quarantine suite together, and write ``passed`` or ``held`` (with the expectations, counts and a
  sample) to ``raw.batch_ledger``. Staging reads passed and released batches only.
- Marts gates judge every city in the mart and write each city's verdict to ``raw.city_verdicts``;
  the serving assets publish the cities that passed and keep the last published figures of a
  held city. A suite with ``meta.gate.scope`` judges a city that passed last time only on the
  rows admitted since, when the rows it passed with are unchanged (``gate_scope``).
- The quarantine suite reports every quarantined row (a warning); it holds nothing itself, the
  file's own gate does that with the same expectations.

A check that held something fails with WARN severity (the run goes on, the UI shows it in
yellow with the files or cities and why), and alerts. A check whose suite could not run at all
raises, which fails the step: nothing downstream is built on a gate that did not judge.

The suites run through Great Expectations (``gx_engine``: GX's SQL datasource on the warehouse
file, one batch per file or city); GX's results and its Data Docs (``gx_docs``) are what the check
shows. The check opens its own DuckDB connections (and GX's) and closes them before returning, so
the dbt step that follows can take the file's write lock.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from orchestration.automation.alerts import AlertConfig
from orchestration.automation.run_alerts import alert_metadata
from orchestration.checks import gate_scope
from orchestration.checks.batches import table_columns
from orchestration.checks.gate_report import hold_alert, suite_metadata, verdicts_markdown, warning_alert
from orchestration.checks.gx_docs import write_data_docs
from orchestration.checks.gx_engine import evaluate_suite
from orchestration.checks.outcomes import SuiteOutcome
from orchestration.checks.suites import BOUNDARIES, Suite, load_suites
from orchestration.checks.verdicts import Verdict, judge, suite_digest
from orchestration.ledger.store import (
    batch_states,
    ensure_ledger,
    record_city_verdicts,
    record_event,
)
from orchestration.resources import WarehouseResource
from orchestration.settings import PROJECT_ROOT, read_environment


def _gates_full() -> bool:
    return read_environment().gates_full


def _write_docs(outcome: SuiteOutcome, warehouse: WarehouseResource, run_id, config: AlertConfig, log):
    try:
        return write_data_docs(outcome, warehouse.path, run_id)
    except Exception as exc:  # noqa: BLE001 (the gate's verdict matters more than its web page)
        if log:
            log.warning(f"data docs for {outcome.suite.name} not written: {exc}")
        return None


def _result(
    outcome: SuiteOutcome, held: list[Verdict], metadata: dict, description: str, config: AlertConfig, alert, log
) -> AssetCheckResult:
    warned = bool(outcome.failed())  # warnings, or critical failures that named nothing to hold
    # the alert is sent after the run, by the one alert path (orchestration/automation/run_alerts.py)
    if held:
        metadata.update(alert_metadata(alert()))
    elif warned:
        metadata.update(alert_metadata(warning_alert(outcome, metadata.get("run_id"), config, None)))
    return AssetCheckResult(
        passed=not held and not warned,
        severity=AssetCheckSeverity.WARN,
        metadata=metadata,
        description=description[:1000],
    )


def _held_result(
    suite: Suite, outcome, held, judged: int, what: str, consequence: str, metadata, description, run_id, page, log
) -> AssetCheckResult:
    """The check's result for a gate that judged files or cities; the alert names what it held."""
    config = AlertConfig.from_env()
    asset = "/".join(suite.asset_path)
    alert = lambda: hold_alert(  # noqa: E731 (built only when something was held)
        suite.name, asset, suite.check_name, held, judged, what, consequence, run_id, config, page
    )
    return _result(outcome, held, metadata, description, config, alert, log)


def needs_judging(state, digests: dict[str, str], full: bool) -> bool:
    """A batch no gate judged, or one judged by another version of the suites (or all, when full)."""
    if state.state == "landed":
        return True
    if state.state in ("passed", "held"):
        return full or state.detail.get("suites") != digests
    return False  # released (an operator's word), dropped, superseded, refused


def run_raw_gate(
    suite: Suite, quarantine: Suite | None, warehouse: WarehouseResource, run_id: str | None, log=None
) -> AssetCheckResult:
    """Judge the source's unjudged batches; record passed/held in the ledger."""
    source = suite.relation
    suites = [suite] + ([quarantine] if quarantine else [])
    digests = {s.name: suite_digest(s) for s in suites}
    with warehouse.connect() as con:
        ensure_ledger(con)
        states = batch_states(con, "source = ? AND loaded_at IS NOT NULL", [source])
    judged = [s for s in states if needs_judging(s, digests, _gates_full())]
    config = AlertConfig.from_env()
    if not judged:
        return AssetCheckResult(
            passed=True,
            metadata={"files_judged": 0, "files_judged_earlier": len(states), "suite": suite.name},
            description=f"no new file to judge ({len(states)} judged earlier, see raw.batch_states)",
        )
    ids = frozenset(s.batch_id for s in judged)
    outcomes = [evaluate_suite(warehouse.path, s, batches=ids) for s in suites]
    verdicts = judge(outcomes, {s.batch_id: s.source_file for s in judged})
    with warehouse.connect() as con:
        for state in judged:
            v = verdicts[state.batch_id]
            record_event(
                con,
                state.batch_id,
                "held" if v.held else "passed",
                actor=f"gate {suite.name}",
                run_id=run_id,
                reason=v.reason() or None,
                detail={"suites": digests, "failures": v.failures},
            )
    pages = [_write_docs(o, warehouse, run_id, config, log) for o in outcomes]
    # the page to open: the first suite that held something (the source's, or the quarantine's)
    page = next((pg for o, pg in zip(outcomes, pages, strict=True) if o.failed("critical")), pages[0])
    held = [v for v in verdicts.values() if v.held]
    metadata = suite_metadata(outcomes, page)
    metadata.update(
        {
            "run_id": run_id,
            "files_judged": len(judged),
            "files_held": len(held),
            "files_judged_earlier": len(states) - len(judged),
            "verdicts": verdicts_markdown(list(verdicts.values()), "file"),
        }
    )
    if held:
        description = f"held {len(held)} of {len(judged)} file(s): " + "; ".join(
            f"{v.label} ({v.reason()})" for v in held[:3]
        )
    else:
        description = f"passed {len(judged)} file(s)" + (
            f"; {len(outcomes[0].failed('warning'))} warning(s)" if outcomes[0].failed("warning") else ""
        )
    return _held_result(
        suite,
        outcomes[0],
        held,
        len(judged),
        "file(s)",
        "their rows stay out of staging and every mart; the other files went on "
        "(release, drop or replace a held file: python -m orchestration.cli batches --help).",
        metadata,
        description,
        run_id,
        page,
        log,
    )


def _cities(con, suite: Suite) -> dict[str, str]:
    """Each value of the suite's batch column in the mart -> its city (profiles map through the seed)."""
    by = suite.batch_by
    values = [r[0] for r in con.execute(f'SELECT DISTINCT "{by}" FROM {suite.table} ORDER BY 1').fetchall()]
    if by == "city":
        return {v: v for v in values if v is not None}
    mapping = {}
    if con.execute(
        "SELECT 1 FROM information_schema.tables "
        "WHERE table_schema = 'reference' AND table_name = 'city_source_profiles'"
    ).fetchone():
        mapping = dict(con.execute("SELECT source_profile, city FROM reference.city_source_profiles").fetchall())
    return {v: mapping.get(v, v) for v in values if v is not None}


def run_mart_gate(suite: Suite, warehouse: WarehouseResource, run_id: str | None, log=None) -> AssetCheckResult:
    """Judge every city in the mart; record each city's verdict for the serving assets."""
    config = AlertConfig.from_env()
    digest = suite_digest(suite)
    scoping = None
    if suite.scope_column and suite.batch_by:
        with warehouse.connect(read_only=True) as con:
            if table_columns(con, suite):
                scoping = gate_scope.plan(con, suite, digest, allow_scope=not _gates_full())
    scopes = {k: (c, scoping.rows_in_scope[k]) for k, c in scoping.scopes.items()} if scoping else None
    outcome = evaluate_suite(warehouse.path, suite, scopes=scopes)
    with warehouse.connect(read_only=True) as con:
        cities = _cities(con, suite) if suite.batch_by and not outcome.skipped_reason else {}
    # an empty mart holds no city (there is nothing of any city to publish from it): its failed
    # expectations still show on the check, as a warning
    by_value = judge([outcome], cities)
    by_city: dict[str, Verdict] = {}
    for value, v in by_value.items():
        by_city.setdefault(cities[value], Verdict(cities[value], cities[value])).failures += v.failures
    with warehouse.connect() as con:
        ensure_ledger(con)
        record_city_verdicts(
            con,
            run_id,
            suite.name,
            {
                c: ("held" if v.held else "passed", v.reason() or None, {"failures": v.failures})
                for c, v in by_city.items()
            },
        )
        if scoping and not outcome.skipped_reason:
            passed = {value: not v.held for value, v in by_value.items()}
            gate_scope.record(con, suite, digest, scoping, passed, run_id)
    page = _write_docs(outcome, warehouse, run_id, config, log)
    held = [v for v in by_city.values() if v.held]
    metadata = suite_metadata(outcome, page)
    metadata.update({"run_id": run_id, "cities_judged": len(by_city), "cities_held": len(held)})
    if scoping:
        metadata["rows_judged"] = outcome.rows
        metadata["scope"] = MetadataValue.md(gate_scope.scope_markdown(scoping))
    if by_city:
        metadata["verdicts"] = verdicts_markdown(list(by_city.values()), "city")
    if held:
        description = f"held {len(held)} of {len(by_city)} city(ies) from publishing: " + "; ".join(
            f"{v.label} ({v.reason()})" for v in held[:3]
        )
    elif outcome.skipped_reason:
        description = outcome.skipped_reason
    elif not by_city and outcome.failed("critical"):
        description = "the mart is empty, so no city is published from it: " + "; ".join(
            o.expectation.label for o in outcome.failed("critical")
        )
    else:
        description = f"all {len(by_city)} city(ies) fit to publish" + (
            f"; {len(outcome.failed('warning'))} warning(s)" if outcome.failed("warning") else ""
        )
    return _held_result(
        suite,
        outcome,
        held,
        len(by_city),
        "city(ies)",
        "each keeps its last published figures; the other cities were published.",
        metadata,
        description,
        run_id,
        page,
        log,
    )


def run_report_gate(suite: Suite, warehouse: WarehouseResource, run_id: str | None, log=None) -> AssetCheckResult:
    """A suite that reports and holds nothing (the quarantine: each file's own gate holds it)."""
    config = AlertConfig.from_env()
    outcome = evaluate_suite(warehouse.path, suite, whole=True)
    page = _write_docs(outcome, warehouse, run_id, config, log)
    metadata = suite_metadata(outcome, page)
    metadata["run_id"] = run_id
    failed = outcome.failed()
    description = (
        "; ".join(f"{o.expectation.label} ({o.unexpected_count:,} rows)" for o in failed[:3])
        + " (each file is held, if at all, by its own source's gate)"
        if failed
        else (outcome.skipped_reason or f"all {len(outcome.evaluated)} expectations passed")
    )
    return _result(outcome, [], metadata, description, config, None, log)


def build_gate(suite: Suite, quarantine: Suite | None) -> AssetChecksDefinition:
    """The asset check for one suite."""
    holds = {
        "raw_to_staging": "holds each failing file out of staging",
        "marts_to_serving": "holds each failing city out of publishing",
    }[suite.boundary]

    @asset_check(
        asset=AssetKey(list(suite.asset_path)),
        name=suite.check_name,
        blocking=True,
        description=f"Quality gate ({BOUNDARIES[suite.boundary]}; {holds}): GX suite {suite.name}, "
        f"{len(suite.expectations)} expectations. {suite.notes}",
        metadata={
            "suite": suite.name,
            "suite_file": str(suite.path.relative_to(PROJECT_ROOT)) if suite.path else "",
            "expectations": len(suite.expectations),
        },
    )
    def _gate(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> AssetCheckResult:
        run_id = context.run.run_id
        if suite.boundary == "marts_to_serving":
            return run_mart_gate(suite, warehouse, run_id, context.log)
        if suite is quarantine or not suite.batch_by:
            return run_report_gate(suite, warehouse, run_id, context.log)
        return run_raw_gate(suite, quarantine, warehouse, run_id, context.log)

    return _gate


def quarantine_suite(suites: list[Suite]) -> Suite | None:
    return next((s for s in suites if s.boundary == "raw_to_staging" and s.relation == "quarantine"), None)


def build_gates(asset_keys: set[AssetKey], suites: list[Suite] | None = None) -> list[AssetChecksDefinition]:
    """A gate for every suite whose asset is in the graph. A mart suite whose model does not exist
    yet gets its gate as soon as the model is in the dbt project (the next definitions load)."""
    suites = load_suites() if suites is None else suites
    quarantine = quarantine_suite(suites)
    return [build_gate(s, quarantine) for s in suites if AssetKey(list(s.asset_path)) in asset_keys]
