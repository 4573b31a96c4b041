"""The city box drawn from the sample's coordinates, robust to stray geocodes."""

from __future__ import annotations

# Outlier fences: a point more than this many interquartile ranges beyond the quartiles is a
# geocoding error (a city's points spread over its extent, whose quartiles are about half of it,
# so every genuine point lies well inside; a point in another state does not).
FENCE_IQR = 3.0


def robust_box(con, la: str, lo: str, table: str = "sample") -> dict[str, float] | None:
    """The sample's city box, drawn from a robust spread: the quartiles widened by FENCE_IQR
    interquartile ranges, but never past the points themselves (widened by 0.01 degree), so
    real points at the city's edge are inside and a stray geocode far away is not."""
    row = con.execute(
        f"""
        SELECT quantile_cont({la}, 0.25), quantile_cont({la}, 0.75), min({la}), max({la}),
               quantile_cont({lo}, 0.25), quantile_cont({lo}, 0.75), min({lo}), max({lo})
        FROM {table} WHERE {la} <> 0 AND {lo} <> 0 AND abs({la}) <= 90 AND abs({lo}) <= 180
        """
    ).fetchone()
    if row is None or None in row:
        return None
    box = {}
    for name, (q1, q3, low, high) in (("latitude", row[:4]), ("longitude", row[4:])):
        spread = q3 - q1
        box[f"min_{name}"] = round(max(low, q1 - FENCE_IQR * spread) - 0.01, 2)
        box[f"max_{name}"] = round(min(high, q3 + FENCE_IQR * spread) + 0.01, 2)
    return box


def box_of_columns(con, latitude: str, longitude: str, table: str = "sample") -> dict[str, float] | None:
    """robust_box of a latitude and a longitude column of the table (read as numbers)."""
    la, lo = (f'try_cast("{c}" AS DOUBLE)' for c in (latitude, longitude))
    return robust_box(con, la, lo, table=table)
