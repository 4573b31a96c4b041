-- Records placed by their coordinates, per landed file (one row per city x source profile x file),
-- against the city's current admitted beats only: a file placed against older boundaries waits to be placed again.
with current_boundaries as (
    select batch_id from {{ ref('stg_area_boundaries') }}
    group by batch_id
)

select
    placements.city,
    placements.source,
    placements.source_profile,
    placements.source_file,
    placements.records,
    placements.agrees,
    placements.elsewhere,
    placements.outside,
    placements.placed,
    placements.re_placed,
    placements.unplaceable,
    placements.unverified,
    placements.placed_at
from {{ ref('stg_record_placement_batches') }} as placements
inner join current_boundaries on placements.boundary_batch_id = current_boundaries.batch_id
