-- Residents per beat, for every rate per resident: the areas extract's population where it gives
-- one, else the census estimate area-weighted from tracts or block groups (stg_area_crosswalk,
-- rounded to whole residents); population_source says which. So a city with only census
-- populations still gets rates per resident, in the divergence, zone and stop-equity marts alike.
with areas as (
    select * from {{ ref('stg_areas') }}
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

listed_areas as (
    select
        coalesce(cities.city, areas.source_profile) as city,
        areas.beat as area_id,
        areas.population
    from areas
    left join cities
        on areas.source_profile = cities.source_profile
),

census as (
    select
        city,
        beat_id as area_id,
        cast(round(sum(population_allocated)) as bigint) as census_population
    from {{ ref('stg_area_crosswalk') }}
    where beat_id is not null
    group by city, beat_id
)

select
    coalesce(listed_areas.city, census.city) as city,
    coalesce(listed_areas.area_id, census.area_id) as area_id,
    listed_areas.area_id is not null as in_areas_file,
    coalesce(listed_areas.population, census.census_population) as population,
    case
        when listed_areas.population is not null then 'areas file'
        when census.census_population is not null then 'census tracts, area-weighted'
    end as population_source
from listed_areas
full outer join census
    on
        listed_areas.city = census.city
        and listed_areas.area_id = census.area_id
