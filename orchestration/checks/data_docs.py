"""Data docs: a static page per suite for its latest validation, and an index of all suites.

Written after every gate evaluation into ``PSW_DATA_DOCS_DIR`` (default: ``data_docs/`` beside
the warehouse file). Each suite also gets its validation result as GX-shaped JSON
(``validations/<suite>.json``). The pages are self-contained HTML (no scripts, no CDN), so they
open from the file system and can be linked from the transparency report
(``data_docs/index.html``).
"""

from __future__ import annotations

import json
import os
from html import escape
from pathlib import Path
from typing import Any

from orchestration.checks.evaluate import ExpectationOutcome, SuiteOutcome

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:80rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ccc;padding:.35rem .5rem;
text-align:left;vertical-align:top;font-size:.9rem}th{background:#f3f3f3}code,pre{font-size:.8rem}
pre{white-space:pre-wrap;margin:0}.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
.warn{color:#9a6700;font-weight:600}.skip{color:#777}.muted{color:#666;font-size:.85rem}
table.sample td,table.sample th{font-size:.8rem;padding:.2rem .35rem}.scroll{overflow-x:auto;max-width:38rem}
"""


def docs_dir(warehouse_path: str | Path) -> Path:
    """Where the pages go: ``PSW_DATA_DOCS_DIR``, else ``data_docs/`` beside the warehouse."""
    configured = os.environ.get("PSW_DATA_DOCS_DIR")
    return Path(configured) if configured else Path(warehouse_path).resolve().parent / "data_docs"


def status_of(o: ExpectationOutcome) -> tuple[str, str]:
    """(css class, word) for one expectation's result."""
    if not o.evaluated:
        return "skip", "skipped"
    if o.success:
        return "pass", "passed"
    return ("fail", "FAILED") if o.expectation.severity == "critical" else ("warn", o.expectation.severity)


def suite_status(outcome: SuiteOutcome) -> tuple[str, str]:
    if outcome.skipped_reason:
        return "skip", "not evaluated"
    if not outcome.success:
        return "fail", "FAILED"
    if outcome.failed():
        return "warn", "passed with warnings"
    return "pass", "passed"


def _kwargs(kwargs: dict[str, Any]) -> str:
    shown = {k: v for k, v in kwargs.items() if k != "unexpected_rows_query"}
    text = ", ".join(f"{k}={json.dumps(v)}" for k, v in shown.items())
    query = kwargs.get("unexpected_rows_query")
    out = f"<code>{escape(text)}</code>" if text else ""
    if query:
        out += f"<details><summary>query</summary><pre>{escape(query)}</pre></details>"
    return out


def _sample_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    cols = list(rows[0])
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows)
    return f'<div class="scroll"><table class="sample"><tr>{head}</tr>{body}</table></div>'


def _observed(o: ExpectationOutcome) -> str:
    if o.error:
        return f'<span class="fail">error:</span> {escape(o.error)}'
    parts = []
    if o.expectation.type == "unexpected_rows_expectation":
        parts.append(f"{o.unexpected_count:,} unexpected row(s)")
    elif o.considered or o.unexpected_count:
        pct = f" ({o.unexpected_percent:.2f} %)" if o.unexpected_percent is not None else ""
        parts.append(f"{o.unexpected_count:,} unexpected of {o.considered:,}{pct}")
    elif o.observed is not None:
        parts.append(f"observed {escape(json.dumps(o.observed))}")
    elif o.evaluated:
        parts.append("no value to judge (all missing)")
    if "mostly" in o.expectation.kwargs:
        parts.append(f"mostly {o.expectation.kwargs['mostly']} per batch")
    if o.failing_batches:
        files = ", ".join(f"{b['file']} ({b['unexpected']}/{b['considered']})" for b in o.failing_batches[:5])
        more = f" and {len(o.failing_batches) - 5} more" if len(o.failing_batches) > 5 else ""
        parts.append(f"failing: {escape(files)}{more}")
    for reason in o.skipped:
        parts.append(f'<span class="skip">skipped {escape(reason)}</span>')
    return "<br>".join(parts) + _sample_table(o.sample)


def render_suite_page(outcome: SuiteOutcome, run_id: str | None, run_url: str | None) -> str:
    suite = outcome.suite
    css, word = suite_status(outcome)
    rows = []
    for o in outcome.outcomes:
        c, w = status_of(o)
        why = o.expectation.meta.get("why", "")
        rows.append(
            f'<tr><td class="{c}">{w}</td><td>{escape(o.expectation.severity)}</td>'
            f"<td><b>{escape(o.expectation.label)}</b><br>{_kwargs(o.expectation.kwargs)}"
            f"{'<br><span class=muted>' + escape(why) + '</span>' if why else ''}</td>"
            f"<td>{_observed(o)}</td></tr>"
        )
    run = f'<a href="{escape(run_url)}">{escape(run_id or "")}</a>' if run_url else escape(run_id or "(no run)")
    skipped = f"<p class='skip'>{escape(outcome.skipped_reason)}</p>" if outcome.skipped_reason else ""
    if outcome.parameters:
        skipped += (
            "<p class='muted'>suite parameters: "
            + "; ".join(
                f"<code>{escape(profile)}</code>: " + (escape(json.dumps(values)) if values else "none")
                for profile, values in outcome.parameters.items()
            )
            + "</p>"
        )
    source = escape(str(suite.path.relative_to(suite.path.parents[2]))) if suite.path else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{escape(suite.name)}: {word}</title><style>{STYLE}</style></head><body>
<p><a href="index.html">All suites</a></p>
<h1>{escape(suite.name)} <span class="{css}">{word}</span></h1>
<p>{escape(suite.notes)}</p>
<p class="muted">asset <code>{escape("/".join(suite.asset_path))}</code>
&middot; table <code>{escape(suite.table)}</code> &middot; suite <code>{source}</code>
&middot; validated {escape(outcome.validated_at)} &middot; run {run}
&middot; {outcome.rows:,} rows in {outcome.batches:,} batch(es) &middot; {outcome.elapsed_seconds:.3f} s
&middot; <a href="validations/{escape(suite.name)}.json">result as JSON</a></p>{skipped}
<table><tr><th>result</th><th>severity</th><th>expectation</th><th>observed</th></tr>{"".join(rows)}</table>
<p class="muted">critical: a failure blocks the downstream assets; warning: reported, does not block.
Row-level expectations are judged per batch ({escape(suite.batch_by or "the whole table")}).</p>
</body></html>
"""


def render_index(root: Path) -> str:
    rows = []
    for path in sorted((root / "validations").glob("*.json")):
        result = json.loads(path.read_text())
        meta, stats = result.get("meta", {}), result.get("statistics", {})
        warn = any(
            not r["success"] and r["expectation_config"].get("severity") != "critical" for r in result["results"]
        )
        if meta.get("skipped_reason"):
            css, word = "skip", "not evaluated"
        elif not result["success"]:
            css, word = "fail", "FAILED"
        else:
            css, word = ("warn", "passed with warnings") if warn else ("pass", "passed")
        name = result["suite_name"]
        rows.append(
            f'<tr><td><a href="{escape(name)}.html">{escape(name)}</a></td><td class="{css}">{word}</td>'
            f"<td><code>{escape(meta.get('asset', ''))}</code></td>"
            f"<td>{stats.get('successful_expectations', 0)} / {stats.get('evaluated_expectations', 0)}</td>"
            f"<td>{meta.get('rows', 0):,}</td><td>{meta.get('elapsed_seconds', 0):.3f} s</td>"
            f"<td>{escape(meta.get('validation_time', ''))}</td></tr>"
        )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Quality gates: latest validations</title><style>{STYLE}</style></head><body>
<h1>Quality gates: latest validation of each suite</h1>
<p>Great Expectations suites from <code>expectations/</code>, evaluated inside DuckDB as blocking Dagster
asset checks. A failed gate stops the assets downstream of it.</p>
<table><tr><th>suite</th><th>status</th><th>asset</th><th>expectations passed</th><th>rows</th><th>cost</th>
<th>validated</th></tr>{"".join(rows)}</table></body></html>
"""


def write_data_docs(outcome: SuiteOutcome, root: Path, run_id: str | None = None, run_url: str | None = None) -> Path:
    """Write the suite's page and JSON result, refresh the index; returns the suite page's path."""
    (root / "validations").mkdir(parents=True, exist_ok=True)
    name = outcome.suite.name
    (root / "validations" / f"{name}.json").write_text(
        json.dumps(outcome.to_gx_dict(run_id), indent=2, default=str), encoding="utf-8"
    )
    page = root / f"{name}.html"
    page.write_text(render_suite_page(outcome, run_id, run_url), encoding="utf-8")
    (root / "index.html").write_text(render_index(root), encoding="utf-8")
    return page
