{#-
    How stops end, city-wide: per city x period (month, quarter, year) x outcome (arrest, citation
    or summons, warning, no enforcement, not recorded, other), the stops and their share of the
    city's stops with a 95 % Wilson interval. The report's "How stops end" figure reads it.
    Disclosure: a count from 1 to var('min_cell_count') - 1 is withheld, and complementary
    suppression withholds more until none can be recovered by subtraction (the outcomes against
    the city's stops, months against their quarter, quarters against their year).
-#}
with stops as (
    select * from {{ ref('int_stops_classified') }}
),

period_types as (
    {{ period_types() }}
),

-- the city's stops as mart_stop_equity publishes them (NULL there, not given here either)
city_totals as (
    select
        city,
        period_type,
        period_start,
        stops as published_city_stops
    from {{ ref('mart_stop_equity') }}
    where area_id = 'all' and group_type = 'all'
),

classified as (
    select
        city,
        stop_month,
        case
            when outcome = 'arrest' then 'arrest'
            when outcome in ('citation', 'summons') then 'citation or summons'
            when outcome = 'warning' then 'warning'
            when outcome = 'none' then 'no enforcement'
            when outcome is null then 'not recorded'
            else 'other'
        end as outcome,
        count(*) as stops
    from stops
    group by 1, 2, 3
),

counted as (
    select
        classified.city,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'classified.stop_month') }} as period_start,
        classified.outcome,
        sum(classified.stops) as stops
    from classified
    cross join period_types
    group by 1, 2, 3, 4
),

measured as (
    select
        counted.*,
        sum(counted.stops) over (
            partition by counted.city, counted.period_type, counted.period_start
        ) as city_stops,
        {{ join_text([
            'counted.city', "'|'", 'counted.period_type', "'|'", as_text('counted.period_start'), "'|'", 'counted.outcome'
        ]) }} as cell_id,
        {{ period_start_of("'quarter'", 'counted.period_start') }} as quarter_start,
        {{ period_start_of("'year'", 'counted.period_start') }} as year_start
    from counted
),

disclosure_cells as (
    select
        cell_id,
        stops as cell_value,
        stops > 0 and stops < {{ var('min_cell_count') }} as is_withheld
    from measured
),

disclosure_members as (
    -- the outcomes against the city's stops (published by mart_stop_equity)
    select
        {{ join_text(["'city|'", 'city', "'|'", 'period_type', "'|'", as_text('period_start')]) }} as equation_id,
        cell_id
    from measured
    union all
    -- months against their quarter
    select
        {{ join_text(["'quarter|'", 'city', "'|'", 'outcome', "'|'", as_text('quarter_start')]) }} as equation_id,
        cell_id
    from measured
    where period_type in ('month', 'quarter')
    union all
    -- quarters against their year
    select
        {{ join_text(["'year|'", 'city', "'|'", 'outcome', "'|'", as_text('year_start')]) }} as equation_id,
        cell_id
    from measured
    where period_type in ('quarter', 'year')
),

{{ complementary_suppression('disclosure_cells', 'disclosure_members', 'disclosed') }}

select
    measured.city,
    measured.period_type,
    measured.period_start,
    {{ period_label('measured.period_type', 'measured.period_start') }} as period_label,
    measured.outcome,
    case when not disclosed.is_withheld then measured.stops end as stops,
    city_totals.published_city_stops as city_stops,
    case
        when not disclosed.is_withheld and city_totals.published_city_stops is not null
            then {{ divide('measured.stops', 'measured.city_stops') }}
    end as share_of_stops,
    case
        when not disclosed.is_withheld and city_totals.published_city_stops is not null
            then {{ wilson_low('measured.stops', 'measured.city_stops') }}
    end as share_of_stops_low,
    case
        when not disclosed.is_withheld and city_totals.published_city_stops is not null
            then {{ wilson_high('measured.stops', 'measured.city_stops') }}
    end as share_of_stops_high,
    disclosed.is_withheld,
    case
        when measured.stops < {{ var('min_cell_count') }} then 'fewer than {{ var("min_cell_count") }} stops'
        when disclosed.is_withheld
            then 'withheld so that another withheld count cannot be recovered by subtraction'
    end as withheld_reason
from measured
inner join disclosed on measured.cell_id = disclosed.cell_id
left join city_totals
    on
        measured.city = city_totals.city
        and measured.period_type = city_totals.period_type
        and measured.period_start = city_totals.period_start
