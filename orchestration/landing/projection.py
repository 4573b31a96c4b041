"""Planar coordinates (US state plane, feet) to latitude/longitude, done in DuckDB SQL at landing.

Some cities publish x/y in their state-plane system instead of latitude/longitude (New Orleans'
MapX/MapY: NAD83 Louisiana South, US survey feet; Dallas: NAD83 Texas North Central). DuckDB's
spatial extension cannot be installed here, so the Lambert conformal conic projection
(two standard parallels, on the GRS 1980 ellipsoid) is written out: the formulas of
J. P. Snyder, *Map Projections: A Working Manual* (USGS Professional Paper 1395, 1987),
pp. 104-110, with the conformal-latitude series (eq. 3-5) instead of iteration. NAD83 is taken
as WGS84 (they differ by about a metre in the continental US: far below a block).

``to_wgs84_sql`` gives the SQL; ``inverse`` and ``forward`` are the same formulas in Python
(the tests check them against reference points computed with PROJ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

US_SURVEY_FOOT = 1200 / 3937
GRS80_A = 6378137.0
GRS80_F = 1 / 298.257222101


@dataclass(frozen=True)
class LambertConformal:
    """A Lambert conformal conic (2SP) projection; angles in degrees, offsets in the unit."""

    name: str
    epsg: int
    lat_1: float
    lat_2: float
    lat_0: float
    lon_0: float
    false_easting: float
    false_northing: float
    unit_metres: float

    def _constants(self):
        e2 = GRS80_F * (2 - GRS80_F)
        e = math.sqrt(e2)

        def m(phi):
            return math.cos(phi) / math.sqrt(1 - e2 * math.sin(phi) ** 2)

        def t(phi):
            s = math.sin(phi)
            return math.tan(math.pi / 4 - phi / 2) / ((1 - e * s) / (1 + e * s)) ** (e / 2)

        p1, p2, p0 = (math.radians(v) for v in (self.lat_1, self.lat_2, self.lat_0))
        n = (math.log(m(p1)) - math.log(m(p2))) / (math.log(t(p1)) - math.log(t(p2)))
        big_f = m(p1) / (n * t(p1) ** n)
        rho0 = GRS80_A * big_f * t(p0) ** n
        return e, e2, n, big_f, rho0, t

    def forward(self, lat: float, lon: float) -> tuple[float, float]:
        """(x, y) in the projection's unit for a latitude/longitude in degrees."""
        _, _, n, big_f, rho0, t = self._constants()
        rho = GRS80_A * big_f * t(math.radians(lat)) ** n
        theta = n * math.radians(lon - self.lon_0)
        x = rho * math.sin(theta) / self.unit_metres + self.false_easting
        y = (rho0 - rho * math.cos(theta)) / self.unit_metres + self.false_northing
        return x, y

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        """(latitude, longitude) in degrees for x/y in the projection's unit."""
        e, e2, n, big_f, rho0, _ = self._constants()
        dx = (x - self.false_easting) * self.unit_metres
        dy = rho0 - (y - self.false_northing) * self.unit_metres
        rho = math.copysign(math.hypot(dx, dy), n)
        t_ = (rho / (GRS80_A * big_f)) ** (1 / n)
        theta = math.atan2(dx, dy)
        chi = math.pi / 2 - 2 * math.atan(t_)
        c2, c4, c6, c8 = _series(e2)
        phi = chi + c2 * math.sin(2 * chi) + c4 * math.sin(4 * chi) + c6 * math.sin(6 * chi) + c8 * math.sin(8 * chi)
        return math.degrees(phi), math.degrees(theta / n) + self.lon_0

    def to_wgs84_sql(self, x_sql: str, y_sql: str) -> tuple[str, str]:
        """(latitude SQL, longitude SQL) for DOUBLE expressions of x and y (NULL in, NULL out)."""
        _, e2, n, big_f, rho0, _ = self._constants()
        dx = f"(({x_sql}) - {self.false_easting!r}) * {self.unit_metres!r}"
        dy = f"({rho0!r} - (({y_sql}) - {self.false_northing!r}) * {self.unit_metres!r})"
        rho = f"sqrt(pow({dx}, 2) + pow({dy}, 2))"
        chi = f"(pi() / 2 - 2 * atan(pow({rho} / {GRS80_A * big_f!r}, {1 / n!r})))"
        c2, c4, c6, c8 = _series(e2)
        lat = (
            f"degrees({chi} + {c2!r} * sin(2 * {chi}) + {c4!r} * sin(4 * {chi}) "
            f"+ {c6!r} * sin(6 * {chi}) + {c8!r} * sin(8 * {chi}))"
        )
        lon = f"(degrees(atan2({dx}, {dy}) / {n!r}) + {self.lon_0!r})"
        return lat, lon


def _series(e2: float) -> tuple[float, float, float, float]:
    """Coefficients of Snyder eq. 3-5 (conformal latitude back to geodetic latitude)."""
    e4, e6, e8 = e2**2, e2**3, e2**4
    return (
        e2 / 2 + 5 * e4 / 24 + e6 / 12 + 13 * e8 / 360,
        7 * e4 / 48 + 29 * e6 / 240 + 811 * e8 / 11520,
        7 * e6 / 120 + 81 * e8 / 1120,
        4279 * e8 / 161280,
    )


PROJECTIONS: dict[str, LambertConformal] = {
    p.name: p
    for p in [
        # EPSG:3452 NAD83 / Louisiana South (ftUS): New Orleans MapX / MapY.
        LambertConformal(
            name="louisiana_south_ftus",
            epsg=3452,
            lat_1=30 + 42 / 60,
            lat_2=29 + 18 / 60,
            lat_0=28 + 30 / 60,
            lon_0=-(91 + 20 / 60),
            false_easting=1_000_000 / US_SURVEY_FOOT,
            false_northing=0.0,
            unit_metres=US_SURVEY_FOOT,
        ),
        # EPSG:2276 NAD83 / Texas North Central (ftUS): Dallas X_Coordinate / Y_Cordinate.
        LambertConformal(
            name="texas_north_central_ftus",
            epsg=2276,
            lat_1=33 + 58 / 60,
            lat_2=32 + 8 / 60,
            lat_0=31 + 40 / 60,
            lon_0=-98.5,
            false_easting=600_000 / US_SURVEY_FOOT,
            false_northing=2_000_000 / US_SURVEY_FOOT,
            unit_metres=US_SURVEY_FOOT,
        ),
    ]
}
