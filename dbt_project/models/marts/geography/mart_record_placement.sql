-- Records placed by their coordinates, per landed file (one row per city x source profile x file,
-- the file's latest placement),
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
from (
    -- a file landed again under its name (a correction, a new day's extract) is placed again:
    -- its latest placement stands for it
    select
        placed.*,
        row_number() over (
            partition by placed.city, placed.source_profile, placed.source_file
            order by placed.placed_at desc, placed.batch_id desc
        ) as placement_rank
    from {{ ref('stg_record_placement_batches') }} as placed
    inner join current_boundaries on placed.boundary_batch_id = current_boundaries.batch_id
) as placements
where placements.placement_rank = 1
