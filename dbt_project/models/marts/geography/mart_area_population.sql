-- Census residents per beat (area-weighted from tracts or block groups) with their margin of error,
-- beside the population the city's areas extract gives, and the latest year's violent crime per
-- 1,000 residents on the census estimate, with an interval.
{# The margin of a sum of estimates is the root of the sum of their margins squared (the Census
    Bureau's approximation); each unit's margin follows its share of residents into the beat. ACS
    margins are at 90 % confidence: x 1.959964 / 1.644854 gives the 95 % margin the rate's interval
    uses. The rate's interval takes the Poisson interval of the count over the population's 95 %
    interval (low count over high population, and the reverse): conservative, as both errors are
    taken at their extremes at once. Without margins (a decennial count), the Poisson interval alone. #}
with census as (
    select
        city,
        beat_id as area_id,
        sum(population_allocated) as census_population,
        case
            when count(margin_allocated) = count(*) then sqrt(sum(margin_allocated * margin_allocated))
        end as census_population_margin_90,
        min(census_level) as census_level,
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
),

with_margin as (
    select
        census.*,
        census.census_population_margin_90 * 1.959964 / 1.644854 as margin_95
    from census
)

select
    census.city,
    'beat' as area_level,
    census.area_id,
    census.census_level,
    census.census_population,
    census.census_population_margin_90,
    greatest(census.census_population - census.census_population_margin_90, 0) as census_population_low_90,
    census.census_population + census.census_population_margin_90 as census_population_high_90,
    census.tracts_contributing,
    census.from_split_tracts / nullif(census.census_population, 0) as share_from_split_tracts,
    violence.reported_population,
    violence.period_label,
    case when violence.violent_crimes >= {{ var('min_cell_count') }} then violence.violent_crimes end as violent_crimes,
    case
        when violence.violent_crimes >= {{ var('min_cell_count') }}
            then 1000.0 * violence.violent_crimes / nullif(census.census_population, 0)
    end as violent_crime_rate_per_1000_census,
    case
        when violence.violent_crimes >= {{ var('min_cell_count') }}
            then
                1000.0 * {{ poisson_low('violence.violent_crimes') }}
                / nullif(census.census_population + coalesce(census.margin_95, 0), 0)
    end as violent_crime_rate_per_1000_census_low,
    case
        when violence.violent_crimes >= {{ var('min_cell_count') }}
            then
                1000.0 * {{ poisson_high('violence.violent_crimes') }}
                / nullif(greatest(census.census_population - coalesce(census.margin_95, 0), 0), 0)
    end as violent_crime_rate_per_1000_census_high
from with_margin as census
left join violence on census.city = violence.city and census.area_id = violence.area_id
