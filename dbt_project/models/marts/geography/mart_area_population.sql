-- Census residents per beat (area-weighted from tracts) beside the population the city's areas
-- extract gives, and the latest year's violent crime per 1,000 residents on the census estimate.
with census as (
    select
        city,
        beat_id as area_id,
        sum(population_allocated) as census_population,
        count(*) as tracts_contributing,
        sum(case when area_share < 1 then population_allocated else 0 end) as from_split_tracts
    from {{ ref('stg_area_crosswalk') }}
    where beat_id is not null
    group by city, beat_id
),

latest_year as (
    select
        city,
        max(period_start) as period_start
    from {{ ref('mart_enforcement_divergence') }}
    where period_type = 'year'
    group by city
),

violence as (
    select
        divergence.city,
        divergence.area_id,
        divergence.period_label,
        divergence.violent_crimes,
        divergence.population as reported_population
    from {{ ref('mart_enforcement_divergence') }} as divergence
    inner join latest_year
        on divergence.city = latest_year.city and divergence.period_start = latest_year.period_start
    where divergence.period_type = 'year'
)

select
    census.city,
    'beat' as area_level,
    census.area_id,
    census.census_population,
    census.tracts_contributing,
    census.from_split_tracts / nullif(census.census_population, 0) as share_from_split_tracts,
    violence.reported_population,
    violence.period_label,
    case when violence.violent_crimes >= {{ var('min_cell_count') }} then violence.violent_crimes end as violent_crimes,
    case
        when violence.violent_crimes >= {{ var('min_cell_count') }}
            then 1000.0 * violence.violent_crimes / nullif(census.census_population, 0)
    end as violent_crime_rate_per_1000_census
from census
left join violence on census.city = violence.city and census.area_id = violence.area_id
