{#-
    How concentrated violent crime is: per city x period (month, quarter, year) x place level
    (area, block), the share of violent crimes in the top 1 %, 5 % and 10 % of places, a Gini
    index, and the top place. The top x % is the top ceil(places x x %) places (at least one);
    places are those of int_violent_places. Every period of the city has a row for both levels,
    even when it had no violent crime (shares and Gini are then NULL).
-#}
with places as (
    select * from {{ ref('int_violent_places') }}
),

area_months as (
    select * from {{ ref('int_enforcement_area_months') }}
),

period_types as (
    {{ period_types() }}
),

place_levels as (
    select 'area' as place_level
    union all
    select 'block' as place_level
),

-- Every period of every city, with all of its violent crimes (placed or not).
city_periods as (
    select
        area_months.city,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'area_months.event_month') }} as period_start,
        sum(area_months.violent_crimes) as city_violent_crimes
    from area_months
    cross join period_types
    group by
        area_months.city,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'area_months.event_month') }}
),

concentration as (
    select
        city,
        period_type,
        period_start,
        place_level,
        max(places) as places,
        sum(case when violent_crimes > 0 then 1 else 0 end) as places_with_violence,
        sum(violent_crimes) as violent_crimes,
        max(case when descending_position <= ceil(places * 0.01) then descending_position end) as top_1pct_places,
        {{ top_places_share('violent_crimes', 'descending_position', 'places', '0.01') }} as top_1pct_share,
        max(case when descending_position <= ceil(places * 0.05) then descending_position end) as top_5pct_places,
        {{ top_places_share('violent_crimes', 'descending_position', 'places', '0.05') }} as top_5pct_share,
        max(case when descending_position <= ceil(places * 0.10) then descending_position end) as top_10pct_places,
        {{ top_places_share('violent_crimes', 'descending_position', 'places', '0.10') }} as top_10pct_share,
        {{ gini_index('violent_crimes', 'ascending_position', 'places') }} as gini_index,
        max(case when descending_position = 1 and violent_crimes > 0 then place_id end) as top_place_id,
        max(case when descending_position = 1 and violent_crimes > 0 then violent_crimes end)
            as top_place_violent_crimes,
        sum(case when place_rank = 1 and violent_crimes > 0 then 1 else 0 end) as places_tied_at_top
    from places
    group by city, period_type, period_start, place_level
)

select
    city_periods.city,
    city_periods.period_type,
    city_periods.period_start,
    {{ period_label('city_periods.period_type', 'city_periods.period_start') }} as period_label,
    place_levels.place_level,
    coalesce(concentration.places, 0) as places,
    coalesce(concentration.places_with_violence, 0) as places_with_violence,
    city_periods.city_violent_crimes,
    coalesce(concentration.violent_crimes, 0) as placed_violent_crimes,
    city_periods.city_violent_crimes - coalesce(concentration.violent_crimes, 0) as unplaced_violent_crimes,
    concentration.top_1pct_places,
    -- top x % only where x % of the places is more than one place (else it is the top place alone)
    case when concentration.places * 0.01 > 1 then concentration.top_1pct_share end as top_1pct_share,
    concentration.top_5pct_places,
    -- top x % only where x % of the places is more than one place (else it is the top place alone)
    case when concentration.places * 0.05 > 1 then concentration.top_5pct_share end as top_5pct_share,
    concentration.top_10pct_places,
    -- top x % only where x % of the places is more than one place (else it is the top place alone)
    case when concentration.places * 0.10 > 1 then concentration.top_10pct_share end as top_10pct_share,
    concentration.gini_index,
    -- a place is named, and its count given, only from var('min_cell_count') violent crimes
    case
        when concentration.top_place_violent_crimes >= {{ var('min_cell_count') }} then concentration.top_place_id
    end as top_place_id,
    case
        when concentration.top_place_violent_crimes >= {{ var('min_cell_count') }}
            then concentration.top_place_violent_crimes
    end as top_place_violent_crimes,
    case
        when concentration.top_place_violent_crimes >= {{ var('min_cell_count') }}
            then {{ divide('concentration.top_place_violent_crimes', 'concentration.violent_crimes') }}
    end as top_place_share,
    coalesce(concentration.places_tied_at_top, 0) as places_tied_at_top
from city_periods
cross join place_levels
left join concentration
    on
        city_periods.city = concentration.city
        and city_periods.period_type = concentration.period_type
        and city_periods.period_start = concentration.period_start
        and place_levels.place_level = concentration.place_level
