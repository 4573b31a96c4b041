-- The published boundaries table: every mart's area_id joins here (with city and area_level) for a map.
select
    city,
    area_level,
    area_id,
    area_name,
    area_sq_km,
    centroid_latitude,
    centroid_longitude,
    geometry_wkt,
    geometry_geojson,
    source_file,
    loaded_at
from {{ ref('stg_area_boundaries') }}
