"""The field-mapping compiler: a source profile resolved against one file's header (``_Plan``)
becomes SQL for each canonical field (``_FieldSql``): its value, the problems that quarantine a
row and the flags that mark a landed one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orchestration.landing.clock import local_to_utc_sql, transition_index_sql
from orchestration.landing.profiles import EPOCH_FORMATS, KEEP, FieldSource, SourceProfile
from orchestration.landing.projection import PROJECTIONS
from orchestration.sql import quote_ident, quote_literal
from orchestration.sql import sql_list as _sql_list
from orchestration.sql import sql_tuple as _sql_tuple

# A timestamp later than the load time plus this is quarantined (clocks and time zones can put
# a genuine event a few hours ahead; a day is not a clock error any more).
FUTURE_TOLERANCE = timedelta(days=1)
# A timestamp before this is a placeholder for "none" (1900-01-01, 1899-12-30 (a spreadsheet's day
# zero), 0001-01-01), not a time of police work: read as missing and flagged, or, in a required
# field, quarantined.
PLACEHOLDER_BEFORE = "1901-01-01"


@dataclass
class _FieldSql:
    """SQL for one canonical field, in steps: ``prepared`` columns (computed once from the
    file's columns), ``timed`` columns (local timestamps to UTC, with the day's daylight-saving
    transition found by date, see clock.py), then the canonical ``value``, ``problems`` and ``flags``."""

    prepared: dict[str, str]
    value: str
    problems: list[str]
    flags: list[str]
    timed: dict[str, str] = field(default_factory=dict)
    joins: list[str] = field(default_factory=list)


EPOCH_LIMIT = 4102444800  # 2100-01-01 in seconds: a larger count is not read as a time


WKT_POINT = r"POINT\s*\(\s*(-?[0-9.]+)\s+(-?[0-9.]+)\s*\)"  # longitude latitude
GEOJSON_POINT = r'"coordinates"\s*:\s*\[\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)'  # longitude, latitude
PAREN_LAT_LON = r"^\(\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*\)$"  # (latitude, longitude)
EMPTY = "CAST(NULL AS VARCHAR)"


def _problem_text(fld: str, value_sql: str, column: str, what: str) -> str:
    """SQL for: <field>: '<value>' (column <c>) <what>."""
    where = f" (column {column})" if column else ""
    return f"{quote_literal(fld + ': ' + chr(39))} || {value_sql} || {quote_literal(chr(39) + where + ' ' + what)}"


class _Plan:
    """The profile resolved against one file's header: which column feeds which field."""

    def __init__(self, profile: SourceProfile, header: list[str], now: datetime, source_file: str = ""):
        self.profile = profile
        self.source_file = source_file
        self.header = set(header)
        self.now = now
        # The file's columns are read as c1..cN (no clash with the names used here); the first
        # column of a repeated name is the one a profile reads.
        self.position = {}
        for i, name in enumerate(header, 1):
            self.position.setdefault(name, f"c{i}")
        self.used: dict[str, tuple[str, ...]] = {}
        self.missing_required: list[str] = []
        self.missing_optional: list[str] = []
        for fld, spec in profile.columns.items():
            found = spec.resolve(self.header)
            if found is not None:
                self.used[fld] = found
            elif fld in profile.canonical.required:
                self.missing_required.append(f"{spec.wanted()} (for {fld})")
            else:
                self.missing_optional.append(f"{spec.wanted()} (for {fld})")
        coords = profile.coordinates
        self.coordinate_columns: dict[str, str] = {}
        if coords:
            parts = {"point": coords.point} if coords.point else {"x": coords.x, "y": coords.y}
            for part, spec in parts.items():
                found = spec.resolve(self.header)
                if found:
                    self.coordinate_columns[part] = found[0]
                else:
                    self.missing_optional.append(f"{spec.wanted()} (for latitude/longitude)")
            if len(self.coordinate_columns) != len(parts):
                self.coordinate_columns = {}

    def used_columns(self) -> set[str]:
        return {c for found in self.used.values() for c in found} | set(self.coordinate_columns.values())

    def _clean(self, column: str, extra_nulls: tuple[str, ...] = ()) -> str:
        nulls = _sql_tuple(("",) + self.profile.null_values + extra_nulls)
        col = self.position[column]
        return f"(CASE WHEN trim({col}) IN {nulls} THEN NULL ELSE trim({col}) END)"

    def _source_value(self, fld: str) -> tuple[str, str]:
        """(SQL of the field's text before its kind is checked, the column(s) it came from)."""
        if fld in self.used:
            spec: FieldSource = self.profile.columns[fld]
            cols = self.used[fld]
            if spec.line_number:
                # _row_number is computed earlier in the same SELECT (DuckDB reads the alias)
                return f"{quote_literal(self.source_file + ':')} || CAST(_row_number AS VARCHAR)", "line number"
            placeholders = self.profile.missing_values.get(fld, ())
            value = (" || " + quote_literal(spec.separator) + " || ").join(self._clean(c, placeholders) for c in cols)
            mapping = spec.values if spec.values is not None else self.profile.values.get(fld)
            if mapping:
                # prefix: the longest key that starts the value wins (keys are tried longest first)
                keys = sorted(mapping, key=len, reverse=True) if spec.match == "prefix" else list(mapping)
                whens = " ".join(
                    (
                        f"WHEN starts_with({value}, {quote_literal(k)})"
                        if spec.match == "prefix"
                        else f"WHEN {quote_literal(k)}"
                    )
                    + f" THEN {'NULL' if mapping[k] is None else quote_literal(mapping[k])}"
                    for k in keys
                )
                if spec.otherwise == KEEP:
                    other = value
                else:
                    other = "NULL" if spec.otherwise is None else quote_literal(spec.otherwise)
                subject = "" if spec.match == "prefix" else value
                value = f"(CASE WHEN ({value}) IS NULL THEN NULL ELSE (CASE {subject} {whens} ELSE {other} END) END)"
            return value, " + ".join(cols)
        if fld in self.profile.constants:
            return quote_literal(self.profile.constants[fld]), ""
        if self.profile.grain == "unit" and fld == "unit_id":
            # a unit-row extract without a unit column: each row is one unit, named by its line
            return f"{quote_literal(self.source_file + ':')} || CAST(_row_number AS VARCHAR)", "line number"
        if self.profile.grain == "unit" and fld == "units_assigned":
            return "'1'", ""  # one row, one unit; staging counts a call's units over its rows
        return EMPTY, ""

    def field_sql(self, fld: str, kind: str) -> _FieldSql:
        source, column = self._source_value(fld)
        if source == EMPTY:  # the file does not have it: NULL, nothing to check
            return _FieldSql({}, EMPTY, [], [])
        v = quote_ident(f"_v_{fld}")
        prepared = {f"_v_{fld}": source}
        problems: list[str] = []
        flags: list[str] = []
        for col in self.used.get(fld, ()) if self.profile.missing_values.get(fld) else ():
            # a placeholder read as missing is counted (a landed-and-flagged row), not hidden
            raw = f"trim({self.position[col]})"
            flags.append(
                f"CASE WHEN {raw} IN {_sql_tuple(self.profile.missing_values[fld])} THEN "
                f"{quote_literal(fld + ': placeholder ' + chr(39))} || {raw} || "
                f"{quote_literal(chr(39) + ' (column ' + col + ') read as missing')} END"
            )
        if fld in self.profile.canonical.required:
            where = f" (column {column})" if column else ""
            problems.append(f"CASE WHEN {v} IS NULL THEN {quote_literal(f'{fld}: missing required value{where}')} END")
        if kind == "timestamp":
            formats = self.profile.formats_for(fld)
            epochs = [f for f in formats if f in EPOCH_FORMATS]
            naive = [f for f in formats if "%z" not in f and "%Z" not in f and f not in epochs]
            aware = [f for f in formats if f not in naive and f not in epochs]
            parts, timed, joins = [], {}, []
            if naive:
                local = quote_ident(f"_l_{fld}")
                prepared[f"_l_{fld}"] = f"try_strptime({v}, {_sql_list(naive)})"
                index = quote_ident(f"_i_{fld}")
                prepared[f"_i_{fld}"] = transition_index_sql(local)
                utc_local, dst_flag = local_to_utc_sql(local, index, self.profile.timezone)
                parts.append(utc_local)
                timed[f"_d_{fld}"] = dst_flag
                flags.append(
                    f"CASE WHEN {quote_ident(f'_d_{fld}')} IS NOT NULL THEN '{fld}: ' || {quote_ident(f'_d_{fld}')} END"
                )
            if aware:
                # DuckDB's %z reads +hh:mm and +hhmm; an ISO 8601 'Z' means +00:00.
                zoned = f"regexp_replace({v}, '([0-9])Z$', '\\1+00:00')"
                parts.append(f"timezone('UTC', try_strptime({zoned}, {_sql_list(aware)}))")
            for fmt in epochs:
                # seconds (or milliseconds) since 1970-01-01 UTC, within 1970-2100 (else not read)
                seconds = f"try_cast({v} AS DOUBLE) / {EPOCH_FORMATS[fmt]}"
                parts.append(
                    f"CASE WHEN {seconds} BETWEEN 0 AND {EPOCH_LIMIT} THEN timezone('UTC', to_timestamp({seconds})) END"
                )
            timed[f"_t_{fld}"] = parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
            t = quote_ident(f"_t_{fld}")
            limit = self.now + FUTURE_TOLERANCE
            listed = ", ".join(formats)
            late = f"is later than the load time {self.now:%Y-%m-%d %H:%M} UTC + 1 day (read as "
            placeholder = f"{t} < TIMESTAMP '{PLACEHOLDER_BEFORE}'"
            problems.append(
                f"CASE WHEN {v} IS NOT NULL AND {t} IS NULL THEN "
                f"{_problem_text(fld, v, column, 'does not match ' + listed)} "
                f"WHEN {t} > TIMESTAMP '{limit:%Y-%m-%d %H:%M:%S}' THEN "
                f"{_problem_text(fld, v, column, late)} || strftime({t}, '%Y-%m-%d %H:%M:%S') || ' UTC)' END"
            )
            if fld in self.profile.canonical.required:
                what = f"is a placeholder date (before {PLACEHOLDER_BEFORE[:4]}), not a time"
                problems.append(f"CASE WHEN {placeholder} THEN {_problem_text(fld, v, column, what)} END")
            else:
                flags.append(
                    f"CASE WHEN {placeholder} THEN "
                    f"{quote_literal(fld + ': placeholder date ' + chr(39))} || {v} || "
                    f"{quote_literal(chr(39) + ' read as missing')} END"
                )
            value = f"CASE WHEN {placeholder} THEN NULL ELSE strftime({t}, '%Y-%m-%d %H:%M:%S') END"
            return _FieldSql(prepared, value, problems, flags, timed, joins)
        if kind == "date":
            prepared[f"_t_{fld}"] = f"CAST(try_strptime({v}, {_sql_list(self.profile.formats_for(fld))}) AS DATE)"
            t = quote_ident(f"_t_{fld}")
            problems.append(
                f"CASE WHEN {v} IS NOT NULL AND {t} IS NULL THEN {_problem_text(fld, v, column, 'is not a date')} END"
            )
            return _FieldSql(prepared, f"strftime({t}, '%Y-%m-%d')", problems, flags)
        if kind in ("number", "integer"):
            target = "DOUBLE" if kind == "number" else "BIGINT"
            what = "is not an integer" if kind == "integer" else "is not a number"
            problems.append(
                f"CASE WHEN {v} IS NOT NULL AND try_cast({v} AS {target}) IS NULL THEN "
                f"{_problem_text(fld, v, column, what)} END"
            )
            return _FieldSql(prepared, v, problems, flags)
        if kind == "boolean":
            normalised = (
                f"CASE WHEN lower({v}) IN {_sql_tuple(self.profile.true_values)} THEN 'true' "
                f"WHEN lower({v}) IN {_sql_tuple(self.profile.false_values)} THEN 'false' END"
            )
            problems.append(
                f"CASE WHEN {v} IS NOT NULL AND ({normalised}) IS NULL THEN "
                f"{_problem_text(fld, v, column, 'is not a yes/no value')} END"
            )
            return _FieldSql(prepared, normalised, problems, flags)
        return _FieldSql(prepared, v, problems, flags)

    def coordinates_sql(self) -> tuple[_FieldSql, _FieldSql]:
        """Latitude and longitude derived from projected x/y or from a point column."""
        coords = self.profile.coordinates
        if not self.coordinate_columns:
            return _FieldSql({}, EMPTY, [], []), _FieldSql({}, EMPTY, [], [])
        if coords.point:
            col = self.coordinate_columns["point"]
            prepared = {"_v_point": self._clean(col, coords.missing)}
            p = quote_ident("_v_point")

            def part(group_lon_first: int, group_lat_first: int) -> str:
                return (
                    f"coalesce(nullif(regexp_extract({p}, {quote_literal(WKT_POINT)}, {group_lon_first}), ''), "
                    f"nullif(regexp_extract({p}, {quote_literal(GEOJSON_POINT)}, {group_lon_first}), ''), "
                    f"nullif(regexp_extract({p}, {quote_literal(PAREN_LAT_LON)}, {group_lat_first}), ''))"
                )

            lat, lon = part(2, 1), part(1, 2)
            what = "is not a point: POINT (lon lat), GeoJSON or (lat, lon)"
            problem = (
                f"CASE WHEN {p} IS NOT NULL AND ({lat}) IS NULL THEN {_problem_text('latitude', p, col, what)} END"
            )
            return _FieldSql(prepared, lat, [problem], []), _FieldSql({}, lon, [], [])
        xcol, ycol = self.coordinate_columns["x"], self.coordinate_columns["y"]
        prepared = {"_v_x": self._clean(xcol, coords.missing), "_v_y": self._clean(ycol, coords.missing)}
        x, y = quote_ident("_v_x"), quote_ident("_v_y")
        lat, lon = PROJECTIONS[coords.projection].to_wgs84_sql(f"try_cast({x} AS DOUBLE)", f"try_cast({y} AS DOUBLE)")
        problems = [
            f"CASE WHEN {v} IS NOT NULL AND try_cast({v} AS DOUBLE) IS NULL THEN "
            f"{_problem_text('latitude', v, c, 'is not a number')} END"
            for v, c in ((x, xcol), (y, ycol))
        ]
        return (
            _FieldSql(prepared, f"CAST(round({lat}, 7) AS VARCHAR)", problems, []),
            _FieldSql({}, f"CAST(round({lon}, 7) AS VARCHAR)", [], []),
        )

    def coordinate_flag_sql(self, lat: str, lon: str) -> str:
        """A flag for coordinates outside the city (swapped ones named as such), or impossible ones."""
        la, lo = f"try_cast({lat} AS DOUBLE)", f"try_cast({lon} AS DOUBLE)"
        b = self.profile.bounds
        impossible = (
            f"WHEN {la} = 0 AND {lo} = 0 THEN 'latitude/longitude: 0, 0 (no place) read as missing' "
            f"WHEN abs({la}) > 90 OR abs({lo}) > 180 THEN 'latitude/longitude: impossible (not on Earth)'"
        )
        if b is None:
            return f"CASE WHEN {la} IS NULL OR {lo} IS NULL THEN NULL {impossible} END"
        lat_range = f"BETWEEN {b.min_latitude} AND {b.max_latitude}"
        lon_range = f"BETWEEN {b.min_longitude} AND {b.max_longitude}"
        return (
            f"CASE WHEN {la} IS NULL OR {lo} IS NULL THEN NULL "
            f"WHEN {la} = 0 AND {lo} = 0 THEN 'latitude/longitude: 0, 0 (no place) read as missing' "
            f"WHEN {la} {lat_range} AND {lo} {lon_range} THEN NULL "
            f"WHEN {lo} {lat_range} AND {la} {lon_range} "
            "THEN 'latitude/longitude: swapped (the values fit the city the other way round)' "
            f"{impossible} ELSE 'latitude/longitude: outside the city bounds' END"
        )
