{#-
    The top places for violent crime per city x period x place level (area, block): every place
    ranked within the top var('violence_top_places') that had at least one violent crime (tied
    places share a rank, so a period can list a few more). Focused-deterrence target lists.
    Disclosure: a place with fewer than var('min_cell_count') violent crimes in the period is never
    named (a block address with a handful of crimes points at its victims); the list stops there.
-#}
with places as (
    select * from {{ ref('int_violent_places') }}
),

top_places as (
    select
        places.*,
        sum(violent_crimes) over (
            partition by city, period_type, period_start, place_level
            order by descending_position
            rows between unbounded preceding and current row
        ) as cumulative_violent_crimes
    from places
)

select
    city,
    period_type,
    period_start,
    {{ period_label('period_type', 'period_start') }} as period_label,
    place_level,
    place_id,
    place_rank,
    descending_position,
    violent_crimes,
    incidents,
    {{ divide('violent_crimes', 'placed_violent_crimes') }} as share_of_violent_crimes,
    {{ divide('cumulative_violent_crimes', 'placed_violent_crimes') }} as cumulative_share_of_violent_crimes,
    -- 95 % Wilson score intervals of the two shares
    {{ wilson_low('violent_crimes', 'placed_violent_crimes') }} as share_of_violent_crimes_low,
    {{ wilson_high('violent_crimes', 'placed_violent_crimes') }} as share_of_violent_crimes_high,
    {{ wilson_low('cumulative_violent_crimes', 'placed_violent_crimes') }} as cumulative_share_of_violent_crimes_low,
    {{ wilson_high('cumulative_violent_crimes', 'placed_violent_crimes') }} as cumulative_share_of_violent_crimes_high,
    places
from top_places
where
    place_rank <= {{ var('violence_top_places') }}
    and violent_crimes >= {{ var('min_cell_count') }}
