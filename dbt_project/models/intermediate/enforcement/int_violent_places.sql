{#-
    Violent crime per place and period, ranked: per city x period (month, quarter, year) x place
    level x place. Two place levels:
    - area: every area of the city (beat, else district), including areas with no violent crime;
      events with no recorded area are not a place;
    - block: every block address with at least one reported incident of any kind in the period
      (blocks with no reported incident are unknown to the warehouse, so they are not counted).
    descending_position orders places by violent crimes (ties broken by place id) and is what the
    top-x% shares and the Gini index use; place_rank gives tied places the same rank.
-#}
with area_months as (
    select * from {{ ref('int_enforcement_area_months') }}
),

events as (
    select * from {{ ref('int_enforcement_events') }}
),

period_types as (
    {{ period_types() }}
),

place_months as (
    select
        city,
        event_month,
        'area' as place_level,
        area_id as place_id,
        reported_crimes + society_offences as incidents,
        violent_crimes
    from area_months
    where area_level <> 'none'

    union all

    select
        city,
        event_month,
        'block' as place_level,
        block_address as place_id,
        count(*) as incidents,
        sum(violent_crimes) as violent_crimes
    from events
    where event_source = 'incident' and block_address is not null
    group by city, event_month, block_address
),

by_period as (
    select
        place_months.city,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'place_months.event_month') }} as period_start,
        place_months.place_level,
        place_months.place_id,
        sum(place_months.incidents) as incidents,
        sum(place_months.violent_crimes) as violent_crimes
    from place_months
    cross join period_types
    group by
        place_months.city,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'place_months.event_month') }},
        place_months.place_level,
        place_months.place_id
),

ranked as (
    select
        by_period.*,
        count(*) over (partition by city, period_type, period_start, place_level) as places,
        sum(violent_crimes) over (partition by city, period_type, period_start, place_level) as placed_violent_crimes,
        rank() over (
            partition by city, period_type, period_start, place_level
            order by violent_crimes desc
        ) as place_rank,
        row_number() over (
            partition by city, period_type, period_start, place_level
            order by violent_crimes desc, place_id asc
        ) as descending_position
    from by_period
)

select
    city,
    period_type,
    period_start,
    place_level,
    place_id,
    incidents,
    violent_crimes,
    places,
    placed_violent_crimes,
    place_rank,
    descending_position,
    places - descending_position + 1 as ascending_position
from ranked
