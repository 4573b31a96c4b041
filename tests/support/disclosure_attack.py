"""An attacker's view of the published marts: recover withheld counts by subtraction.

Every published table is read as a set of linear equations between cells (a total = the sum of
its parts): a group's rows against the area's 'all' row, the areas against the city, the months
against their quarter and the quarters against their year, a stop row's outcomes against its
stops, and the same count published by two marts. A withheld cell (NULL) in an equation whose
every other cell is published is recovered exactly; recovered cells are then used again until
nothing more falls out (what a reader with a spreadsheet does). Each recovery is a disclosure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import pandas as pd

STOP_COUNTS = ("stops", "searches", "search_hits")
OIA_COUNTS = (
    "stops",
    "searches",
    "searches_with_contraband",
    "arrests",
    "citations",
    "warnings",
    "no_enforcement_stops",
    "outcome_not_recorded_stops",
)
OIA_SAME_AS_EQUITY = {"stops": "stops", "searches": "searches", "searches_with_contraband": "search_hits"}
OIA_SAME_AS_DIVERGENCE = {"arrests": "stop_arrests", "citations": "citations"}
OUTCOME_COUNTS = ("stops", "arrests", "citations", "warnings", "no_enforcement_stops", "outcome_not_recorded_stops")


@dataclass
class Attack:
    values: dict[tuple, float | None] = field(default_factory=dict)
    equations: list[tuple[tuple, list[tuple]]] = field(default_factory=list)

    def cell(self, key: tuple, value) -> tuple:
        """Register a published cell (None or NaN = withheld)."""
        self.values.setdefault(key, None if value is None or pd.isna(value) else float(value))
        return key

    def equation(self, total: tuple, parts: Iterable[tuple]) -> None:
        """total = sum(parts), when the total is a cell of some table (registered, maybe withheld)."""
        if total in self.values:
            self.equations.append((total, list(parts)))

    def run(self) -> dict[tuple, float]:
        """Subtract until nothing changes; the withheld cells recovered, with their values."""
        values = dict(self.values)
        recovered: dict[tuple, float] = {}
        changed = True
        while changed:
            changed = False
            for total, parts in self.equations:
                unknown = [c for c in (total, *parts) if values.get(c) is None]
                if len(unknown) != 1:
                    continue
                (missing,) = unknown
                known_parts = sum(values[c] for c in parts if c != missing)
                values[missing] = known_parts if missing == total else values[total] - known_parts
                recovered[missing] = values[missing]
                changed = True
        return recovered


def _equity_key(city, ptype, pstart, area, gtype, gvalue, count) -> tuple:
    return ("mart_stop_equity", city, ptype, pstart, area, gtype, gvalue, count)


def _in_period(coarser: str, coarse_start: str, fine_start: str) -> bool:
    c, f = pd.Timestamp(coarse_start), pd.Timestamp(fine_start)
    return c.year == f.year and (coarser == "year" or (f.month - 1) // 3 == (c.month - 1) // 3)


def _periods(attack: Attack, rows: pd.DataFrame, key) -> None:
    """Months against their quarter, quarters against their year (rows of one series)."""
    for finer, coarser in (("month", "quarter"), ("quarter", "year")):
        fine = rows.loc[rows["period_type"] == finer, "period_start"]
        for start in rows.loc[rows["period_type"] == coarser, "period_start"]:
            members = [s for s in fine if _in_period(coarser, start, s)]
            if members:
                attack.equation(key(coarser, start), [key(finer, s) for s in members])


def _stop_equity(attack: Attack, frame: pd.DataFrame) -> None:
    frame = frame.assign(period_start=frame["period_start"].astype(str))
    for row in frame.itertuples(index=False):
        for count in STOP_COUNTS:
            key = _equity_key(
                row.city, row.period_type, row.period_start, row.area_id, row.group_type, row.group_value, count
            )
            attack.cell(key, getattr(row, count))
    for count in STOP_COUNTS:
        for (city, ptype, pstart, area), rows in frame.groupby(["city", "period_type", "period_start", "area_id"]):
            for gtype in ("race", "sex"):
                values = rows.loc[rows["group_type"] == gtype, "group_value"]
                if len(values):
                    attack.equation(
                        _equity_key(city, ptype, pstart, area, "all", "all", count),
                        [_equity_key(city, ptype, pstart, area, gtype, v, count) for v in values],
                    )
        for (city, ptype, pstart, gtype, gvalue), rows in frame.groupby(
            ["city", "period_type", "period_start", "group_type", "group_value"]
        ):
            areas = [a for a in rows["area_id"] if a != "all"]
            attack.equation(
                _equity_key(city, ptype, pstart, "all", gtype, gvalue, count),
                [_equity_key(city, ptype, pstart, a, gtype, gvalue, count) for a in areas],
            )
        for (city, area, gtype, gvalue), rows in frame.groupby(["city", "area_id", "group_type", "group_value"]):
            _periods(
                attack,
                rows,
                lambda pt, ps, c=city, a=area, t=gtype, v=gvalue, n=count: _equity_key(c, pt, ps, a, t, v, n),
            )


def _divergence(attack: Attack, frame: pd.DataFrame) -> None:
    """Each area's stops, searches and hits are mart_stop_equity's 'all' row; its stop arrests and
    citations are the totals of mart_officer_initiated_activity's rows of the area-month."""
    frame = frame.assign(period_start=frame["period_start"].astype(str))
    for row in frame.itertuples(index=False):
        for count in (*STOP_COUNTS, "stop_arrests", "citations"):
            own = ("mart_enforcement_divergence", row.city, row.period_type, row.period_start, row.area_id, count)
            attack.cell(own, getattr(row, count))
            same = _equity_key(row.city, row.period_type, row.period_start, row.area_id, "all", "all", count)
            if same in attack.values:
                attack.equation(same, [own])


def _officer_initiated(attack: Attack, frame: pd.DataFrame, city_of: dict[str, str]) -> None:
    """Stop rows add up over types and hours to the area-month; a row's outcomes add up to its stops."""
    stops = frame[frame["activity_source"] == "stop"].assign(activity_month=lambda f: f["activity_month"].astype(str))

    def key(r, count):
        return ("mart_officer_initiated_activity", r.source_profile, r.activity_month, r.area_id, r.activity_type,
                r.hour_of_week, count)  # fmt: skip

    for r in stops.itertuples(index=False):
        for count in OIA_COUNTS:
            attack.cell(key(r, count), getattr(r, count))
        attack.equation(key(r, "stops"), [key(r, c) for c in OUTCOME_COUNTS[1:]])
    for (profile, month, area), rows in stops.groupby(["source_profile", "activity_month", "area_id"]):
        city = city_of.get(profile, profile)
        for count in OIA_COUNTS:
            parts = [key(r, count) for r in rows.itertuples(index=False)]
            if count in OIA_SAME_AS_EQUITY:
                total = _equity_key(city, "month", month, area, "all", "all", OIA_SAME_AS_EQUITY[count])
            elif count in OIA_SAME_AS_DIVERGENCE:
                total = ("mart_enforcement_divergence", city, "month", month, area, OIA_SAME_AS_DIVERGENCE[count])
            else:  # published nowhere: an equation with an unknown total
                total = attack.cell(("unpublished area-month total", profile, month, area, count), None)
            attack.equation(total, parts)


def _stop_outcomes(attack: Attack, frame: pd.DataFrame) -> None:
    """The outcomes add up to the city's stops (mart_stop_equity); months to quarters to years."""
    frame = frame.assign(period_start=frame["period_start"].astype(str))

    def key(city, ptype, pstart, outcome):
        return ("mart_stop_outcomes", city, ptype, pstart, outcome)

    for row in frame.itertuples(index=False):
        attack.cell(key(row.city, row.period_type, row.period_start, row.outcome), row.stops)
    for (city, ptype, pstart), rows in frame.groupby(["city", "period_type", "period_start"]):
        attack.equation(
            _equity_key(city, ptype, pstart, "all", "all", "all", "stops"),
            [key(city, ptype, pstart, o) for o in rows["outcome"]],
        )
    for (city, outcome), rows in frame.groupby(["city", "outcome"]):
        _periods(attack, rows, lambda pt, ps, c=city, o=outcome: key(c, pt, ps, o))


READS = {
    "mart_stop_equity": "SELECT city, period_type, period_start, area_id, group_type, group_value, stops, searches,"
    " search_hits FROM marts.mart_stop_equity",
    "mart_enforcement_divergence": "SELECT city, period_type, period_start, area_id, stops, searches, search_hits,"
    " stop_arrests, citations"
    " FROM marts.mart_enforcement_divergence",
    "mart_officer_initiated_activity": "SELECT source_profile, activity_source, activity_month, area_id, activity_type,"
    f" hour_of_week, {', '.join(OIA_COUNTS)} FROM marts.mart_officer_initiated_activity",
    "mart_stop_outcomes": "SELECT city, period_type, period_start, outcome, stops FROM marts.mart_stop_outcomes",
    "city_source_profiles": "SELECT source_profile, city FROM reference.city_source_profiles",
}


def published_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """The published tables the attack reads (those that exist in this warehouse)."""
    present = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return {name: con.execute(sql).df() for name, sql in READS.items() if name in present}


def recover(tables: dict[str, pd.DataFrame], across_marts: bool = True) -> dict[tuple, float]:
    """Every withheld stop count recoverable by subtraction from the published tables."""
    attack = Attack()
    _stop_equity(attack, tables["mart_stop_equity"])
    if across_marts:
        profiles = tables["city_source_profiles"]
        city_of = dict(zip(profiles["source_profile"], profiles["city"], strict=True))
        _divergence(attack, tables["mart_enforcement_divergence"])
        _officer_initiated(attack, tables["mart_officer_initiated_activity"], city_of)
        if "mart_stop_outcomes" in tables:
            _stop_outcomes(attack, tables["mart_stop_outcomes"])
    return {key: value for key, value in attack.run().items() if key[0] != "unpublished area-month total"}
