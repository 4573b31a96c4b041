{#-
    Every stop with its city, area and month, and the classes the enforcement marts count:
    enforcement outcome (arrest, citation or summons), search and hit, and "contact untethered
    to crime" - a stop whose outcome is known, is not an arrest, citation or summons, and found
    no contraband. Stops whose outcome is not recorded are neither tethered nor untethered.
-#}
with stops as (
    select * from {{ ref('stg_stops') }}
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

classified as (
    select
        -- ids
        stops.stop_key,
        stops.source_profile,
        coalesce(cities.city, stops.source_profile) as city,

        -- place and time
        coalesce(stops.beat, stops.district, 'unknown') as area_id,
        case
            when stops.beat is not null then 'beat'
            when stops.district is not null then 'district'
            else 'none'
        end as area_level,
        {{ month_start('stops.stopped_at_local') }} as stop_month,

        -- what happened
        stops.stop_type,
        stops.outcome,
        coalesce(stops.outcome in ('arrest', 'citation', 'summons', 'warning', 'none'), false) as has_known_outcome,
        coalesce(stops.outcome = 'arrest', false) as is_arrest,
        coalesce(stops.outcome in ('citation', 'summons'), false) as is_citation,
        coalesce(stops.search_conducted, false) as is_search,
        coalesce(stops.search_conducted and stops.contraband_found, false) as is_search_hit,
        coalesce(stops.contraband_found, false) as is_contraband_found,
        coalesce(
            stops.outcome in ('warning', 'none') and not coalesce(stops.contraband_found, false), false
        ) as is_untethered,

        -- who was stopped
        coalesce(stops.subject_race, 'not recorded') as subject_race,
        coalesce(stops.subject_sex, 'not recorded') as subject_sex
    from stops
    left join cities
        on stops.source_profile = cities.source_profile
)

select * from classified
