"""Write the transparency report: index.html, a page per mart it reads (column docs and SQL),
scorecard.csv and scorecard.json. The site is built in a new folder and swapped in whole, so a
reader never sees half of a refresh. Nothing is loaded from the network: styles are inline,
charts are SVG, and there is no script.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path

import duckdb

from orchestration.report import budget, community, enforcement, geography, quality, scorecard, sections, what_if
from orchestration.report.config import ReportConfig
from orchestration.report.context import CheckSummary, ReportContext

STYLE = """
:root{--on:#1a7f37;--off:#cf222e;--nd:#6e7781}
html{scroll-padding-top:3.2rem}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2328;line-height:1.45;
overflow-wrap:break-word}
header{background:#1f5f8b;color:#fff;padding:1rem 2rem}header h1{margin:0 0 .3rem;font-size:1.6rem}header a{color:#fff}
nav{background:#f6f8fa;border-bottom:1px solid #d0d7de;padding:.5rem 2rem;position:sticky;top:0;z-index:1;
white-space:nowrap;overflow-x:auto}
nav a{margin-right:1rem;color:#0969da;text-decoration:none;font-size:.92rem}
main{max-width:70rem;margin:0 auto;padding:0 2rem 3rem}section{border-bottom:1px solid #d0d7de;padding:1rem 0}
.question{color:#57606a;font-style:italic;margin-top:-.6rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;
text-align:left;vertical-align:middle;font-size:.9rem}th{background:#f6f8fa}
figure.chart{margin:1rem 0 1.5rem;padding:.5rem 1rem;border:1px solid #d0d7de;border-radius:6px}
figure.chart svg{display:block}
figure.chart h4,.table h4{margin:.3rem 0}figcaption{font-size:.92rem;margin-top:.4rem}
.population{color:#57606a;font-size:.85rem;margin:.1rem 0 .4rem}
.status{padding:.1rem .5rem;border-radius:1rem;color:#fff;font-size:.82rem;white-space:nowrap}
.status.on{background:var(--on)}.status.off{background:var(--off)}.status.nodata{background:var(--nd)}
.status.margin{background:#7a5c00}
.note,.muted,.source{color:#57606a;font-size:.82rem}
.unavailable{background:#fff8c5;padding:.5rem .8rem;border-radius:6px}
.count.suppressed{color:#57606a;font-style:italic}pre{background:#f6f8fa;padding:1rem;overflow:auto;font-size:.8rem}
code{overflow-wrap:anywhere}a.how{font-size:.82rem}
details.text-alternative{margin:.4rem 0;font-size:.9rem}details.text-alternative summary{cursor:pointer;color:#0969da}
@media (max-width:700px){
html{scroll-padding-top:0}header{padding:.8rem 1rem}header h1{font-size:1.3rem}
nav{position:static;white-space:normal;padding:.4rem 1rem}nav a{display:inline-block;margin:.15rem .8rem .15rem 0}
main{padding:0 1rem 2rem}figure.chart{padding:.5rem;margin:1rem 0}table.wide{min-width:38rem}
}
"""


@dataclass(frozen=True)
class ReportResult:
    index: Path
    figures: int
    charts: int
    marts: tuple[str, ...]
    scorecard_rows: int


def _page(title: str, body: str, nav: str = "") -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{nav}{body}</body></html>"
    )


def _json_value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def write_scorecard_exports(ctx: ReportContext, out: Path) -> int:
    """scorecard.csv and scorecard.json: every row of marts.mart_kpi_scorecard (small bases already suppressed)."""
    rows = (
        ctx.rows("SELECT * FROM marts.mart_kpi_scorecard ORDER BY city, kpi, period_grain, period_start")
        if ctx.has_table("marts", "mart_kpi_scorecard")
        else []
    )
    columns = [d[0] for d in ctx.con.execute("DESCRIBE marts.mart_kpi_scorecard").fetchall()] if rows else []
    with (out / "scorecard.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if v is None else _json_value(v)) for k, v in r.items()})
    (out / "scorecard.json").write_text(
        json.dumps(
            {
                "source": "marts.mart_kpi_scorecard",
                "min_cell_count": ctx.config.min_cell_count,
                "columns": columns,
                "rows": [{k: _json_value(v) for k, v in r.items()} for r in rows],
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    return len(rows)


def _python_mart_page(con: duckdb.DuckDBPyConnection, mart: str) -> str | None:
    """The page of a mart built in Python (no dbt model): its documentation is the table's and
    columns' comments (orchestration/python_marts.py), which name the module that builds it."""
    table = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'marts' AND table_name = ?", [mart]
    ).fetchone()
    if table is None or not table[0]:
        return None
    columns = con.execute(
        "SELECT column_name, coalesce(comment, '') FROM duckdb_columns() "
        "WHERE schema_name = 'marts' AND table_name = ? ORDER BY column_index",
        [mart],
    ).fetchall()
    cols = "".join(
        f'<tr id="{escape(c)}"><td><code>{escape(c)}</code></td><td>{escape(d)}</td></tr>' for c, d in columns
    )
    return (
        '<main><p><a href="../index.html">← back to the report</a></p>'
        f"<h1>marts.{escape(mart)}</h1><p>{escape(table[0])}</p><h2>Columns</h2>"
        '<div class="scroll"><table><thead><tr><th>Column</th><th>Definition</th></tr></thead>'
        f"<tbody>{cols}</tbody></table></div>"
        '<h2 id="sql">How it is computed</h2><p>Not a dbt model: a Python asset of the code location computes it '
        "after the dbt build (the module is named above) and writes it with the types and comments shown.</p></main>"
    )


def write_mart_pages(con: duckdb.DuckDBPyConnection, marts: set[str], manifest_path: Path, out: Path) -> None:
    """One page per mart the report reads: its description, each column's definition (anchored by
    column name) and the model's SQL, so a figure is two hops from its definition."""
    nodes = json.loads(manifest_path.read_text())["nodes"] if manifest_path.exists() else {}
    by_name = {n["name"]: n for n in nodes.values() if n.get("resource_type") == "model"}
    (out / "marts").mkdir()
    for mart in sorted(marts):
        node = by_name.get(mart)
        if node is None:
            body = _python_mart_page(con, mart) or (
                f"<main><h1>{escape(mart)}</h1><p>No documentation found for this table.</p></main>"
            )
        else:
            cols = "".join(
                f'<tr id="{escape(c)}"><td><code>{escape(c)}</code></td>'
                f"<td>{escape(d.get('description') or '')}</td></tr>"
                for c, d in node.get("columns", {}).items()
            )
            upstream = ", ".join(
                f"<code>{escape(u.split('.')[-1])}</code>" for u in node.get("depends_on", {}).get("nodes", [])
            )
            body = (
                '<main><p><a href="../index.html">← back to the report</a></p>'
                f"<h1>{escape(node['schema'])}.{escape(mart)}</h1>"
                f"<p>{escape(node.get('description') or '')}</p><h2>Columns</h2>"
                '<div class="scroll"><table><thead><tr><th>Column</th><th>Definition</th></tr></thead>'
                f"<tbody>{cols}</tbody></table></div>"
                '<h2 id="sql">How it is computed</h2>'
                f"<p>Model SQL: <code>dbt_project/{escape(node['original_file_path'])}</code>"
                f" (reads {upstream or 'no other model'}).</p>"
                f"<pre><code>{escape(node.get('raw_code') or '')}</code></pre></main>"
            )
        (out / "marts" / f"{mart}.html").write_text(_page(f"marts.{mart}", body), encoding="utf-8")


def build_report(
    con: duckdb.DuckDBPyConnection,
    config: ReportConfig,
    manifest_path: Path,
    checks: list[CheckSummary] | None = None,
    refresh_id: str | None = None,
) -> ReportResult:
    """Read the marts and write the whole site into config.report_dir (replaced atomically)."""
    ctx = ReportContext(con=con, config=config)
    if ctx.has_table("reference", "city_source_profiles"):
        ctx.city_names = {
            r["city"]: r["city_name"] for r in ctx.rows("SELECT city, city_name FROM reference.city_source_profiles")
        }
    parts = [
        scorecard.scorecard(ctx),
        sections.service_demand(ctx),
        sections.officer_initiated(ctx),
        enforcement.divergence_and_zones(ctx),
        enforcement.violence(ctx),
        geography.where_it_happens(ctx),
        sections.response_times(ctx),
        community.community_trust(ctx),
        budget.budget(ctx),
        what_if.what_if(ctx),
        what_if.did_it_work(ctx),
        quality.data_quality(ctx, checks),
    ]
    parts.append(quality.how_made(ctx))
    written = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cities = ", ".join(sorted(ctx.city_names.get(c, c) for c in _cities(ctx))) or "no city yet"
    header = (
        f"<header><h1>Public safety transparency report</h1><div>{escape(cities)} · refreshed {written}</div></header>"
    )
    nav_items = [
        ("scorecard", "Scorecard"),
        ("service-demand", "Service demand"),
        ("officer-initiated", "Officer-initiated"),
        ("divergence-zones", "Divergence & zones"),
        ("violence", "Violence"),
        ("maps", "Maps"),
        ("response-times", "Response times"),
        ("community-trust", "Trust"),
        ("budget", "Budget"),
        ("what-if", "What if"),
        ("did-it-work", "Did it work"),
        ("data-quality", "Data quality"),
        ("how-made", "How these numbers are made"),
    ]
    nav = "<nav>" + "".join(f'<a href="#{a}">{escape(t)}</a>' for a, t in nav_items) + "</nav>"
    staging = config.report_dir.parent / f".{config.report_dir.name}.building"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    index_html = _page("Public safety transparency report", header + nav + "<main>" + "".join(parts) + "</main>")
    (staging / "index.html").write_text(index_html, encoding="utf-8")
    scorecard_rows = write_scorecard_exports(ctx, staging)
    geography.write_boundary_downloads(ctx, staging)
    write_mart_pages(con, ctx.marts_read, manifest_path, staging)
    previous = config.report_dir.parent / f".{config.report_dir.name}.previous"
    if previous.exists():
        shutil.rmtree(previous)
    if config.report_dir.exists():
        config.report_dir.rename(previous)
    staging.rename(config.report_dir)
    if previous.exists():
        shutil.rmtree(previous)
    return ReportResult(
        index=config.report_dir / "index.html",
        figures=len(ctx.figures),
        charts=index_html.count('<figure class="chart"'),
        marts=tuple(sorted(ctx.marts_read)),
        scorecard_rows=scorecard_rows,
    )


def _cities(ctx: ReportContext) -> set[str]:
    if not ctx.has_table("marts", "mart_kpi_scorecard"):
        return set()
    return {r["city"] for r in ctx.rows("SELECT DISTINCT city FROM marts.mart_kpi_scorecard")}
