"""Area boundaries (beats, districts, tracts) as a source: GeoJSON polygons landed with lineage,
judged by a gate (valid polygons, no gaps or overlaps beyond a tolerance, every beat of the
city's calls present), and used to place records by their coordinates."""
