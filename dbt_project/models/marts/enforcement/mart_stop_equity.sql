{#-
    Stop equity (the Stanford Open Policing Project's tests next to any stop data): per city x
    period (month, quarter, year) x area (each area, and 'all' for the whole city) x group
    (all stops; subject race; subject sex): stops, searches and searches that found contraband,
    the search rate per stop, the hit rate per search (the outcome test), the group's share of
    the area's stops, and stops and searches per 1,000 residents where a residential population
    is known. No extract gives population by group, so per-group rates per resident are
    'not available' (NULL), never zero.
    Small cells: a count from 1 to var('min_cell_count') - 1 is published as NULL, and so is any
    rate whose denominator is below var('min_cell_count'). Complementary suppression then withholds
    further counts until no withheld count can be recovered by subtraction: groups against the
    area's 'all' row (race and sex apart), areas against the city ('all'), months against their
    quarter, quarters against their year (macro complementary_suppression). A rate, share or rate
    per resident is published only when the counts it is made of are.
-#}
with stops as (
    select * from {{ ref('int_stops_classified') }}
),

area_population as (
    select
        city,
        area_id,
        population,
        population_source
    from {{ ref('int_area_residents') }}
    where population > 0
),

city_population as (
    select
        city,
        'all' as area_id,
        sum(population) as population,
        case
            when min(population_source) = max(population_source) then min(population_source) else 'mixed'
        end as population_source
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
        case when counted.group_type = 'all' then population.population end as residential_population,
        population.population_source
    from counted
    left join population
        on
            counted.city = population.city
            and counted.area_id = population.area_id
),

keyed as (
    select
        measured.*,
        {{ join_text([
            'measured.city', "'|'", 'measured.period_type', "'|'", as_text('measured.period_start'),
            "'|'", 'measured.area_id', "'|'", 'measured.group_type', "'|'", 'measured.group_value'
        ]) }} as row_id,
        {{ period_start_of("'quarter'", 'measured.period_start') }} as quarter_start,
        {{ period_start_of("'year'", 'measured.period_start') }} as year_start
    from measured
),

variables as (
    select 'stops' as variable
    union all
    select 'searches' as variable
    union all
    select 'search_hits' as variable
),

keyed_cells as (
    select
        keyed.*,
        variables.variable,
        {{ join_text(['keyed.row_id', "'|'", 'variables.variable']) }} as cell_id,
        case variables.variable
            when 'stops' then keyed.stops
            when 'searches' then keyed.searches
            else keyed.search_hits
        end as cell_value
    from keyed
    cross join variables
),

disclosure_cells as (
    select
        cell_id,
        cell_value,
        cell_value > 0 and cell_value < {{ var('min_cell_count') }} as is_withheld
    from keyed_cells
),

-- Every equation a reader could subtract with; the total is one of its cells.
disclosure_members as (
    -- a group's rows against the area's 'all' row, race and sex apart
    select
        {{ join_text([
            "'group|'", 'keyed_cells.city', "'|'", 'keyed_cells.period_type', "'|'",
            as_text('keyed_cells.period_start'), "'|'", 'keyed_cells.area_id', "'|'",
            'group_types.group_type', "'|'", 'keyed_cells.variable'
        ]) }} as equation_id,
        keyed_cells.cell_id
    from keyed_cells
    inner join group_types
        on keyed_cells.group_type in (group_types.group_type, 'all')
    where group_types.group_type <> 'all'
    union all
    -- the areas against the city
    select
        {{ join_text([
            "'area|'", 'city', "'|'", 'period_type', "'|'", as_text('period_start'), "'|'",
            'group_type', "'|'", 'group_value', "'|'", 'variable'
        ]) }} as equation_id,
        cell_id
    from keyed_cells
    union all
    -- months against their quarter
    select
        {{ join_text([
            "'quarter|'", 'city', "'|'", 'area_id', "'|'", 'group_type', "'|'", 'group_value', "'|'", 'variable', "'|'",
            as_text('quarter_start')
        ]) }} as equation_id,
        cell_id
    from keyed_cells
    where period_type in ('month', 'quarter')
    union all
    -- quarters against their year
    select
        {{ join_text([
            "'year|'", 'city', "'|'", 'area_id', "'|'", 'group_type', "'|'", 'group_value', "'|'", 'variable', "'|'",
            as_text('year_start')
        ]) }} as equation_id,
        cell_id
    from keyed_cells
    where period_type in ('quarter', 'year')
),

{{ complementary_suppression('disclosure_cells', 'disclosure_members', 'disclosed') }},

withheld as (
    select
        keyed_cells.row_id,
        max(case when keyed_cells.variable = 'stops' and disclosed.is_withheld then 1 else 0 end) = 1
            as stops_withheld,
        max(case when keyed_cells.variable = 'searches' and disclosed.is_withheld then 1 else 0 end) = 1
            as searches_withheld,
        max(case when keyed_cells.variable = 'search_hits' and disclosed.is_withheld then 1 else 0 end) = 1
            as search_hits_withheld
    from keyed_cells
    inner join disclosed on keyed_cells.cell_id = disclosed.cell_id
    group by keyed_cells.row_id
),

published as (
    select
        keyed.*,
        withheld.stops_withheld,
        withheld.searches_withheld,
        withheld.search_hits_withheld,
        max(case when keyed.group_type = 'all' and withheld.stops_withheld then 1 else 0 end)
            over (partition by keyed.city, keyed.period_type, keyed.period_start, keyed.area_id) = 1
            as area_stops_withheld
    from keyed
    inner join withheld on keyed.row_id = withheld.row_id
)

select
    city,
    period_type,
    period_start,
    {{ period_label('period_type', 'period_start') }} as period_label,
    area_id,
    group_type,
    group_value,

    -- counts (small cells and their complements NULL)
    case when not stops_withheld then stops end as stops,
    case when not searches_withheld then searches end as searches,
    case when not search_hits_withheld then search_hits end as search_hits,

    -- rates (published only when the counts they are made of are)
    case
        when stops >= {{ var('min_cell_count') }} and not stops_withheld and not searches_withheld
            then {{ divide('searches', 'stops') }}
    end as search_rate,
    case
        when searches >= {{ var('min_cell_count') }} and not searches_withheld and not search_hits_withheld
            then {{ divide('search_hits', 'searches') }}
    end as hit_rate,
    case
        when stops >= {{ var('min_cell_count') }} and not stops_withheld and not area_stops_withheld
            then {{ divide('stops', 'area_stops') }}
    end as share_of_area_stops,

    -- 95 % Wilson score intervals of the three proportions (NULL where the proportion is)
    case
        when stops >= {{ var('min_cell_count') }} and not stops_withheld and not searches_withheld
            then {{ wilson_low('searches', 'stops') }}
    end as search_rate_low,
    case
        when stops >= {{ var('min_cell_count') }} and not stops_withheld and not searches_withheld
            then {{ wilson_high('searches', 'stops') }}
    end as search_rate_high,
    case
        when searches >= {{ var('min_cell_count') }} and not searches_withheld and not search_hits_withheld
            then {{ wilson_low('search_hits', 'searches') }}
    end as hit_rate_low,
    case
        when searches >= {{ var('min_cell_count') }} and not searches_withheld and not search_hits_withheld
            then {{ wilson_high('search_hits', 'searches') }}
    end as hit_rate_high,
    case
        when stops >= {{ var('min_cell_count') }} and not stops_withheld and not area_stops_withheld
            then {{ wilson_low('stops', 'area_stops') }}
    end as share_of_area_stops_low,
    case
        when stops >= {{ var('min_cell_count') }} and not stops_withheld and not area_stops_withheld
            then {{ wilson_high('stops', 'area_stops') }}
    end as share_of_area_stops_high,

    -- against residential population
    residential_population,
    case
        when group_type <> 'all' then 'not available: no residential population by group'
        when residential_population is null then 'not available: no residential population for this area'
        when population_source = 'areas file' then 'residential population of the area (areas extract)'
        when population_source = 'mixed' then 'residential population of the city (areas extract and census estimates)'
        else 'residential population of the area (census estimate, area-weighted from tracts)'
    end as population_basis,
    case
        when stops >= {{ var('min_cell_count') }} and not stops_withheld
            then {{ divide('stops * 1000', 'residential_population') }}
    end as stops_per_1000_residents,
    case
        when stops >= {{ var('min_cell_count') }} and not searches_withheld
            then {{ divide('searches * 1000', 'residential_population') }}
    end as searches_per_1000_residents,
    -- their 95 % intervals: exact Poisson limits of the count (Byar) over the population
    case
        when stops >= {{ var('min_cell_count') }} and not stops_withheld
            then {{ poisson_low('stops') }} * 1000 / nullif(residential_population, 0)
    end as stops_per_1000_residents_low,
    case
        when stops >= {{ var('min_cell_count') }} and not stops_withheld
            then {{ poisson_high('stops') }} * 1000 / nullif(residential_population, 0)
    end as stops_per_1000_residents_high,
    case
        when stops >= {{ var('min_cell_count') }} and not searches_withheld
            then {{ poisson_low('searches') }} * 1000 / nullif(residential_population, 0)
    end as searches_per_1000_residents_low,
    case
        when stops >= {{ var('min_cell_count') }} and not searches_withheld
            then {{ poisson_high('searches') }} * 1000 / nullif(residential_population, 0)
    end as searches_per_1000_residents_high,

    -- what was withheld
    stops < {{ var('min_cell_count') }} as is_suppressed,
    stops_withheld and stops >= {{ var('min_cell_count') }} as is_complementary_suppressed,
    case
        when stops < {{ var('min_cell_count') }}
            then 'fewer than {{ var("min_cell_count") }} stops: counts and rates withheld'
        when stops_withheld
            then 'withheld so that another withheld count cannot be recovered by subtraction: counts and rates withheld'
        when searches_withheld and not {{ is_published('searches') }}
            then 'fewer than {{ var("min_cell_count") }} searches: searches, hits, search and hit rates withheld'
        when searches_withheld
            then 'searches withheld so that another withheld count cannot be recovered by subtraction'
        when search_hits_withheld and not {{ is_published('search_hits') }}
            then 'fewer than {{ var("min_cell_count") }} hits: hits and hit rate withheld'
        when search_hits_withheld
            then 'hits withheld so that another withheld count cannot be recovered by subtraction'
    end as suppression_note
from published
