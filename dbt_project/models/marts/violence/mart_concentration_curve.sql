{#-
    The concentration curve (Weisburd's "bandwidth"): for each share of the crimes, the fewest
    places that hold it, with places ranked from the most crimes down. Per city x period x place
    level (area, block) x measure (violent crimes; all reported incidents). Places are the fixed
    universe of int_violent_places.
    Disclosure: the curve names no place, and its resolution is the finest step of
    var('concentration_curve_steps_pct') whose every step carries at least var('min_cell_count')
    crimes, so no count narrower than that can be read off it. A curve too sparse for the coarsest
    step has one row, with no point and its reason.
    places_needed for crime_share_pct q is the smallest k with 100 x (crimes at the top k places)
    >= q x crimes: the place at position k is the one whose cumulative count crosses q % of the
    crimes (found per place, so each place is read once, not once per point).
-#}
{%- set steps = var('concentration_curve_steps_pct') -%}
{%- set benchmarks = var('concentration_benchmarks') -%}
with places as (
    select * from {{ ref('int_violent_places') }}
),

measured as (
    select
        city,
        period_type,
        period_start,
        place_level,
        'violent_crimes' as measure,
        place_id,
        violent_crimes as crimes,
        places
    from places
    where violent_crimes > 0

    union all

    select
        city,
        period_type,
        period_start,
        place_level,
        'incidents' as measure,
        place_id,
        incidents as crimes,
        places
    from places
    where incidents > 0
),

cumulative as (
    select
        city,
        period_type,
        period_start,
        place_level,
        measure,
        places,
        row_number() over (
            partition by city, period_type, period_start, place_level, measure
            order by crimes desc, place_id asc
        ) as position,
        sum(crimes) over (
            partition by city, period_type, period_start, place_level, measure
            order by crimes desc, place_id asc
            rows between unbounded preceding and current row
        ) as cumulative_crimes,
        sum(crimes) over (
            partition by city, period_type, period_start, place_level, measure
        ) as total_crimes,
        crimes
    from measured
),

-- The percents of the crimes (1 to 100) that each place's count carries the curve across.
crossings as (
    select
        *,
        cast(floor(100.0 * (cumulative_crimes - crimes) / total_crimes) as integer) + 1 as first_pct,
        cast(floor(100.0 * cumulative_crimes / total_crimes) as integer) as last_pct
    from cumulative
),

curves as (
    select
        city,
        period_type,
        period_start,
        place_level,
        measure,
        max(places) as places,
        max(total_crimes) as crimes,
        count(*) as places_with_crime
    from cumulative
    group by city, period_type, period_start, place_level, measure
),

steps as (
    {%- for step in steps %}
        {% if not loop.first %}union all
        {% endif %}select {{ step }} as step_pct
    {%- endfor %}
),

resolution as (
    select
        curves.city,
        curves.period_type,
        curves.period_start,
        curves.place_level,
        curves.measure,
        min(steps.step_pct) as step_pct
    from curves
    inner join steps on steps.step_pct * curves.crimes >= 100 * {{ var('min_cell_count') }}
    group by curves.city, curves.period_type, curves.period_start, curves.place_level, curves.measure
),

digits as (
    {%- for d in range(10) %}
        {% if not loop.first %}union all
        {% endif %}select {{ d }} as digit
    {%- endfor %}
),

percents as (
    select tens.digit * 10 + ones.digit + 1 as crime_share_pct
    from digits as tens
    cross join digits as ones
),

benchmarks as (
    {%- for b in benchmarks %}
        {% if not loop.first %}union all
        {% endif %}select
            {{ b.crime_share_pct }} as crime_share_pct,
            cast({{ b.share_of_places_low }} as {{ type_double() }}) as benchmark_share_of_places_low,
            cast({{ b.share_of_places_high }} as {{ type_double() }}) as benchmark_share_of_places_high
    {%- endfor %}
),

points as (
    select
        resolution.city,
        resolution.period_type,
        resolution.period_start,
        resolution.place_level,
        resolution.measure,
        resolution.step_pct,
        percents.crime_share_pct,
        crossings.position as places_needed
    from resolution
    inner join percents on mod(percents.crime_share_pct, resolution.step_pct) = 0
    inner join crossings
        on
            resolution.city = crossings.city
            and resolution.period_type = crossings.period_type
            and resolution.period_start = crossings.period_start
            and resolution.place_level = crossings.place_level
            and resolution.measure = crossings.measure
            and percents.crime_share_pct between crossings.first_pct and crossings.last_pct
)

select
    curves.city,
    curves.period_type,
    curves.period_start,
    {{ period_label('curves.period_type', 'curves.period_start') }} as period_label,
    curves.place_level,
    curves.measure,
    curves.places,
    curves.places_with_crime,
    -- the count itself is published only from min_cell_count (a curve needs several times that)
    case when curves.crimes >= {{ var('min_cell_count') }} then curves.crimes end as crimes,
    points.step_pct is not null as is_published,
    points.step_pct as curve_step_pct,
    points.crime_share_pct,
    cast(points.crime_share_pct as {{ type_double() }}) / 100 as crime_share,
    points.places_needed,
    {{ divide('points.places_needed', 'curves.places') }} as share_of_places,
    -- as even as the count allows: one crime per place while crimes are fewer than places
    case
        when points.crime_share_pct is not null
            then {{ divide(
                'ceil(points.crime_share_pct * least(curves.crimes, curves.places) / 100.0)', 'curves.places'
            ) }}
    end as share_of_places_if_even,
    benchmarks.benchmark_share_of_places_low,
    benchmarks.benchmark_share_of_places_high,
    case
        when points.step_pct is null
            then
                'no curve: fewer than {{ 100 * var("min_cell_count") // steps | max }} crimes, so a step of the '
                || 'curve would carry fewer than {{ var("min_cell_count") }}'
    end as note
from curves
left join points
    on
        curves.city = points.city
        and curves.period_type = points.period_type
        and curves.period_start = points.period_start
        and curves.place_level = points.place_level
        and curves.measure = points.measure
left join benchmarks
    on
        points.crime_share_pct = benchmarks.crime_share_pct
        and points.measure = 'incidents'
        and points.place_level = 'block'
