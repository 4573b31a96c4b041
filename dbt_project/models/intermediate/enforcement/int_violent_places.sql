{#-
    Violent crime per place and period, ranked: per city x period (month, quarter, year) x place
    level x place. Two place levels:
    - area: every area of the city (beat, else district), including areas with no violent crime;
      events with no recorded area are not a place;
    - block: every block address with at least one reported incident of any kind in the period
      (blocks with no reported incident are unknown to the warehouse, so they are not counted).
    places counts a fixed universe per city and level, the same in every period: every area, and
    every block with a reported incident in any period. A block with no incident in the period is
    a place with no violent crime (it has no row here: it sits at the bottom of the ascending
    order), so the Gini index and the top-x % shares compare across periods, and measure
    concentration over all the city's places rather than over those that happened to have a crime.
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

universe as (
    select
        city,
        place_level,
        count(distinct place_id) as universe_places
    from place_months
    group by city, place_level
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
        universe.universe_places as places,
        sum(by_period.violent_crimes) over (
            partition by by_period.city, by_period.period_type, by_period.period_start, by_period.place_level
        ) as placed_violent_crimes,
        rank() over (
            partition by by_period.city, by_period.period_type, by_period.period_start, by_period.place_level
            order by by_period.violent_crimes desc
        ) as place_rank,
        row_number() over (
            partition by by_period.city, by_period.period_type, by_period.period_start, by_period.place_level
            order by by_period.violent_crimes desc, by_period.place_id asc
        ) as descending_position
    from by_period
    inner join universe
        on
            by_period.city = universe.city
            and by_period.place_level = universe.place_level
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
