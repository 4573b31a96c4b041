{#-
    Stop equity (the Stanford Open Policing Project's tests next to any stop data): per city x
    period (month, quarter, year) x area (each area, and 'all' for the whole city) x group
    (all stops; subject race; subject sex): stops, searches and searches that found contraband,
    the search rate per stop, the hit rate per search (the outcome test), the group's share of
    the area's stops, and stops and searches per 1,000 residents where a residential population
    is known. No extract gives population by group, so per-group rates per resident are
    'not available' (NULL), never zero.
    Small cells: a count from 1 to var('min_cell_count') - 1 is published as NULL, and so is any
    rate whose denominator is below var('min_cell_count').
-#}
with stops as (
    select * from {{ ref('int_stops_classified') }}
),

areas as (
    select * from {{ ref('stg_areas') }}
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

area_population as (
    select
        coalesce(cities.city, areas.source_profile) as city,
        areas.beat as area_id,
        areas.population
    from areas
    left join cities
        on areas.source_profile = cities.source_profile
    where areas.population > 0
),

city_population as (
    select
        city,
        'all' as area_id,
        sum(population) as population
    from area_population
    group by city
),

population as (
    select * from area_population
    union all
    select * from city_population
),

-- Count once per city x month x area x race x sex, then roll up (far fewer rows than stops).
cells as (
    select
        city,
        stop_month,
        area_id,
        subject_race,
        subject_sex,
        count(*) as stops,
        sum(case when is_search then 1 else 0 end) as searches,
        sum(case when is_search_hit then 1 else 0 end) as search_hits
    from stops
    group by city, stop_month, area_id, subject_race, subject_sex
),

period_types as (
    {{ period_types() }}
),

area_scopes as (
    select 'area' as area_scope
    union all
    select 'city' as area_scope
),

group_types as (
    select 'all' as group_type
    union all
    select 'race' as group_type
    union all
    select 'sex' as group_type
),

expanded as (
    select
        cells.city,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'cells.stop_month') }} as period_start,
        case when area_scopes.area_scope = 'city' then 'all' else cells.area_id end as area_id,
        group_types.group_type,
        case group_types.group_type
            when 'race' then cells.subject_race
            when 'sex' then cells.subject_sex
            else 'all'
        end as group_value,
        cells.stops,
        cells.searches,
        cells.search_hits
    from cells
    cross join period_types
    cross join area_scopes
    cross join group_types
),

counted as (
    select
        city,
        period_type,
        period_start,
        area_id,
        group_type,
        group_value,
        sum(stops) as stops,
        sum(searches) as searches,
        sum(search_hits) as search_hits
    from expanded
    group by city, period_type, period_start, area_id, group_type, group_value
),

measured as (
    select
        counted.*,
        sum(case when counted.group_type = 'all' then counted.stops end)
            over (partition by counted.city, counted.period_type, counted.period_start, counted.area_id)
            as area_stops,
        case when counted.group_type = 'all' then population.population end as residential_population
    from counted
    left join population
        on
            counted.city = population.city
            and counted.area_id = population.area_id
)

select
    city,
    period_type,
    period_start,
    {{ period_label('period_type', 'period_start') }} as period_label,
    area_id,
    group_type,
    group_value,

    -- counts (small cells NULL)
    {{ published_count('stops') }} as stops,
    {{ published_count('searches') }} as searches,
    {{ published_count('search_hits') }} as search_hits,

    -- rates (NULL when they would reveal a small cell)
    case
        when stops >= {{ var('min_cell_count') }} and {{ is_published('searches') }}
            then {{ divide('searches', 'stops') }}
    end as search_rate,
    case
        when searches >= {{ var('min_cell_count') }} and {{ is_published('search_hits') }}
            then {{ divide('search_hits', 'searches') }}
    end as hit_rate,
    case
        when stops >= {{ var('min_cell_count') }} then {{ divide('stops', 'area_stops') }}
    end as share_of_area_stops,

    -- against residential population
    residential_population,
    case
        when group_type <> 'all' then 'not available: no residential population by group'
        when residential_population is null then 'not available: no residential population for this area'
        else 'residential population of the area (areas extract)'
    end as population_basis,
    case
        when stops >= {{ var('min_cell_count') }} then {{ divide('stops * 1000', 'residential_population') }}
    end as stops_per_1000_residents,
    case
        when stops >= {{ var('min_cell_count') }} and {{ is_published('searches') }}
            then {{ divide('searches * 1000', 'residential_population') }}
    end as searches_per_1000_residents,

    -- what was withheld
    stops < {{ var('min_cell_count') }} as is_suppressed,
    case
        when stops < {{ var('min_cell_count') }}
            then 'fewer than {{ var("min_cell_count") }} stops: counts and rates withheld'
        when not {{ is_published('searches') }}
            then 'fewer than {{ var("min_cell_count") }} searches: searches, hits, search and hit rates withheld'
        when not {{ is_published('search_hits') }}
            then 'fewer than {{ var("min_cell_count") }} hits: hits and hit rate withheld'
    end as suppression_note
from measured
