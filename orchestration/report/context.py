"""What every section of the report shares: the warehouse connection, the thresholds, and the
register of figures that the "how these numbers are made" section lists (figure → mart column)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

import duckdb

from orchestration.report.config import ReportConfig


@dataclass(frozen=True)
class Figure:
    """One chart or table of the report, and the mart columns its numbers are read from."""

    anchor: str
    title: str
    mart: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class CheckSummary:
    """One quality check's outcome in the refresh that wrote the report (dbt test or gate)."""

    asset: str
    name: str
    passed: bool
    severity: str


@dataclass
class ReportContext:
    con: duckdb.DuckDBPyConnection
    config: ReportConfig
    city_names: dict[str, str] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    marts_read: set[str] = field(default_factory=set)

    @property
    def threshold(self) -> int:
        return self.config.min_cell_count

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        """Query results as dicts keyed by column name."""
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

    def has_table(self, schema: str, name: str) -> bool:
        return bool(
            self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                [schema, name],
            ).fetchone()[0]
        )

    def city_name(self, city: str) -> str:
        return self.city_names.get(city, city.replace("_", " ").title())

    def _register(self, title: str, mart: str, columns: tuple[str, ...]) -> str:
        base = "fig-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
        anchor, n = base, 2
        while any(f.anchor == anchor for f in self.figures):
            anchor, n = f"{base}-{n}", n + 1
        self.figures.append(Figure(anchor, title, mart, columns))
        self.marts_read.add(mart)
        return anchor

    def chart(
        self, title: str, svg: str, caption: str, mart: str, columns: tuple[str, ...], population: str = ""
    ) -> str:
        """A chart with what it counts (its population, in words), its plain-language caption and a
        link to where its numbers come from."""
        anchor = self._register(title, mart, columns)
        counted = f'<p class="population">{population}</p>' if population else ""
        return (
            f'<figure class="chart" id="{anchor}"><h4>{escape(title)}</h4>{counted}{svg}'
            f"<figcaption>{caption} {self.source_link(anchor, mart)}</figcaption></figure>"
        )

    def table(self, title: str, head: list[str], body: list[list[str]], mart: str, columns: tuple[str, ...]) -> str:
        """A table (cells are HTML already: counts come through format.count_cell)."""
        anchor = self._register(title, mart, columns)
        th = "".join(f"<th>{escape(h)}</th>" for h in head)
        wide = ' class="wide"' if len(head) > 4 else ""  # kept readable on a phone: it scrolls inside its box
        trs = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body)
        return (
            f'<div class="table" id="{anchor}"><h4>{escape(title)}</h4>'
            f'<div class="scroll"><table{wide}><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table></div>'
            f'<p class="source">{self.source_link(anchor, mart)}</p></div>'
        )

    @staticmethod
    def source_link(anchor: str, mart: str) -> str:
        return (
            f'<a class="how" href="#how-{anchor}">How this is made</a> · source: '
            f'<a href="marts/{mart}.html"><code>{mart}</code></a>'
        )
