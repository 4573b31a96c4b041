"""The report's closing sections: what went wrong with the data, and how each number is made."""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from orchestration.report import charts, plain
from orchestration.report import format as fmt
from orchestration.report.context import CheckSummary, ReportContext
from orchestration.report.sections import not_available, section


def _quarantine(ctx: ReportContext) -> str:
    table = next(
        (t for t in (("staging", "stg_quarantine"), ("raw", "quarantine")) if ctx.has_table(*t)),
        None,
    )
    if table is None:
        return not_available("The quarantine table does not exist yet.")
    source_column = "canonical_source" if table[1] == "stg_quarantine" else "source"
    rows = ctx.rows(
        f"SELECT source_profile, {source_column} AS source, error_type, count(*) AS lines "
        f"FROM {table[0]}.{table[1]} GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3"
    )
    if not rows:
        return "<p>No line of any extract loaded so far was quarantined: every row read was landed.</p>"
    total = sum(r["lines"] for r in rows)
    words = plain.words(ctx)
    body = [
        [
            escape(words.extract(r["source_profile"], r["source"])),
            escape(r["error_type"]),
            fmt.count_cell(r["lines"], ctx.threshold),
        ]
        for r in rows
    ]
    mart = table[1]
    return (
        f"<p>{fmt.count_cell(total, ctx.threshold, ' lines')} could not be landed and were kept in quarantine with "
        "the reason (nothing is dropped silently: rows read = rows landed + rows quarantined).</p>"
        + ctx.table(
            "Quarantined lines by source and reason",
            ["Extract", "Problem", "Lines"],
            body,
            mart,
            ("source_profile", source_column, "error_type"),
        )
    )


STATE_WORDS = {
    "held": "held by a quality gate",
    "refused": "refused: it could not be read as its profile says",
    "unmatched": "not read: no source profile matches it",
}


def _held(ctx: ReportContext) -> str:
    """Files kept out of these figures (held, refused, unread) and cities whose figures are older."""
    parts = []
    words = plain.words(ctx)
    if ctx.has_table("raw", "batch_states"):
        rows = ctx.rows(
            "SELECT source_file, coalesce(source_profile, '') AS source_profile, state, coalesce(reason, '') AS reason "
            "FROM raw.batch_states WHERE state IN ('held', 'refused', 'unmatched') ORDER BY state, source_file"
        )
        if rows:
            body = [
                [
                    escape(r["source_file"]),
                    escape(words.extract(r["source_profile"]) if r["source_profile"] else "none"),
                    STATE_WORDS[r["state"]],
                    escape(r["reason"]),
                ]
                for r in rows
            ]
            parts.append(
                f"<p>{len(rows)} file(s) in the landing folder are not in these figures until an operator "
                "releases, replaces or drops them:</p>"
                + '<div class="table"><h4>Files kept out of this refresh</h4><div class="scroll"><table><thead><tr>'
                + "".join(f"<th>{h}</th>" for h in ("File", "Extract", "Why", "Detail"))
                + "</tr></thead><tbody>"
                + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
                + '</tbody></table></div><p class="source">From the batch ledger (<code>raw.batch_states</code>); '
                "operators list it with <code>python -m orchestration.cli batches list</code>.</p></div>"
            )
        else:
            parts.append("<p>Every file in the landing folder passed its quality gate.</p>")
    if ctx.has_table("serving", "city_publication"):
        cities = ctx.rows("SELECT city, status, figures_from_refresh, reason FROM serving.city_publication ORDER BY 1")
        for c in cities:
            since = " (its figures are from an earlier refresh)" if c["figures_from_refresh"] else ""
            parts.append(
                f"<p><strong>{escape(ctx.city_name(c['city']))}</strong>: {escape(c['status'])}{since}; "
                f"why: {escape(c['reason'] or '')}</p>"
            )
    return "".join(parts)


def _coverage(ctx: ReportContext) -> str:
    if not ctx.has_table("marts", "mart_classification_coverage"):
        return not_available("Classification coverage is not yet available.")
    rows = ctx.rows(
        "SELECT source_profile, call_month, calls, unclassified_share FROM marts.mart_classification_coverage "
        "ORDER BY source_profile, call_month"
    )
    if not rows:
        return not_available("No calls loaded yet.")
    words = plain.words(ctx)
    series = [
        charts.Series(
            words.extract(p, "calls_for_service"),
            [(r["call_month"].strftime("%Y-%m"), r["unclassified_share"]) for r in rows if r["source_profile"] == p],
        )
        for p in sorted({r["source_profile"] for r in rows})
    ]
    limit = ctx.rows("SELECT target FROM reference.kpi_targets WHERE kpi = 'unclassified_call_share' AND city = 'all'")
    goal = limit[0]["target"] if limit else None
    latest = {p.name: p.points[-1] for p in series}
    latest_words = "; ".join(f"{escape(p)}: {fmt.pct(v)} in {escape(m)}" for p, (m, v) in latest.items())
    return ctx.chart(
        "Calls left unclassified",
        charts.lines(
            "Share of calls unclassified (not on the city's call-type list, or listed as other), by month",
            series,
            fmt.pct,
            target=goal,
        ),
        "A call whose type is not on the city's list of call types (the list that says which calls are about a "
        f"crime, which an alternative responder could take), or is listed only as 'other', is counted, not hidden. "
        f"Latest months - {latest_words}." + (f" The limit is {fmt.pct(goal)}." if goal is not None else ""),
        "mart_classification_coverage",
        ("unclassified_share", "calls", "unclassified_calls"),
        "Counted: every call and event in each city's dispatch records, month by month.",
    )


def _checks(checks: list[CheckSummary] | None) -> str:
    if checks is None:
        return "<p>The report was built outside a refresh run: no quality-check results are attached.</p>"
    if not checks:
        return "<p>No quality check ran in the refresh that wrote this report.</p>"
    failed = [c for c in checks if not c.passed]
    passed = len(checks) - len(failed)
    text = f"<p>{len(checks)} quality checks (dbt tests and quality gates) ran in this refresh: {passed} passed"
    if not failed:
        return text + ".</p>"
    items = "".join(
        f"<li><code>{escape(c.asset)}</code> {escape(c.name)} ({escape(c.severity.lower())})</li>" for c in failed
    )
    return text + f", {len(failed)} did not:</p><ul>{items}</ul>"


def _data_docs(ctx: ReportContext) -> str:
    index = ctx.config.data_docs_dir / "index.html"
    href = Path(os.path.relpath(index, ctx.config.report_dir)).as_posix()
    if index.exists():
        return (
            "<p>Every quality gate's latest result, expectation by expectation: "
            f'<a href="{escape(href)}">Data Docs</a>.</p>'
        )
    return (
        "<p>The quality gates' Data Docs were not published next to this report when it was written; when they are, "
        f'they are at <a href="{escape(href)}"><code>{escape(href)}</code></a> (relative to this page).</p>'
    )


def data_quality(ctx: ReportContext, checks: list[CheckSummary] | None) -> str:
    body = (
        "<h3>Files held back</h3>"
        + _held(ctx)
        + "<h3>What was quarantined</h3>"
        + _quarantine(ctx)
        + "<h3>What the quality gates said</h3>"
        + _checks(checks)
        + _data_docs(ctx)
        + "<h3>How much of the call volume is classified</h3>"
        + _coverage(ctx)
    )
    return section("data-quality", "Data quality", "Can these numbers be trusted?", body)


def how_made(ctx: ReportContext) -> str:
    rows = "".join(
        f'<tr id="how-{f.anchor}"><td><a href="#{f.anchor}">{escape(f.title)}</a></td>'
        f'<td><a href="marts/{f.mart}.html"><code>{escape(f.mart)}</code></a></td><td>'
        + ", ".join(f'<a href="marts/{f.mart}.html#{escape(c)}"><code>{escape(c)}</code></a>' for c in f.columns)
        + "</td></tr>"
        for f in ctx.figures
    )
    body = (
        "<p>Every figure above is read from one table of the warehouse. Follow the column to its definition, "
        "and from there to the SQL that computes it.</p>"
        '<div class="scroll"><table><thead><tr><th>Figure</th><th>Table</th><th>Columns</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
        "<h3>Small numbers are not published</h3>"
        f"<p>A count from 1 to {ctx.config.min_cell_count - 1} (calls, stops, events, lines) is never shown: it reads "
        f'"fewer than {ctx.config.min_cell_count}", and no median, percentile or share is computed from such a '
        f"cell. Survey results for an area are shown only with at least {ctx.config.min_survey_respondents} "
        "respondents. The same rule applies in the tables published to analysts (dbt vars "
        "<code>min_cell_count</code> and <code>min_survey_respondents</code>).</p>"
    )
    return section("how-made", "How these numbers are made", "Where does each number come from?", body)
