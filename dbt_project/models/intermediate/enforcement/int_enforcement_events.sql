{#-
    Reported crime and police enforcement on one grain: one row per reported offence, stop or
    officer-initiated CAD event, placed in its city, area and local month. Each row carries 1 in
    the count columns that describe it and 0 elsewhere, so any grouping sums them.

    Reported crime = offences against persons or property (NIBRS "crimes against"). Offences
    against society (drugs, weapons, DUI) are counted apart: officers mostly find them rather
    than residents reporting them, so counting them as crime would tether enforcement to the
    crime it produced. An offence whose category is unknown counts as reported crime.

    Violent and property crime are the FBI's families (the offence_categories seed): violent =
    murder and non-negligent manslaughter, rape, robbery, aggravated assault; property =
    burglary, larceny-theft, motor vehicle theft, arson. Simple assault is counted apart. For a
    code the seed does not know, the city's own violent flag and category are used, and a crime
    the city calls violent is never also counted as property (robbery is in one family only).
-#}
with incidents as (
    select * from {{ ref('stg_incidents') }}
),

offence_categories as (
    select * from {{ ref('offence_categories') }}
),

stops as (
    select * from {{ ref('int_stops_classified') }}
),

calls as (
    select * from {{ ref('int_calls_classified') }}
    where is_police_call
),

cities as (
    select * from {{ ref('city_source_profiles') }}
),

incident_events as (
    select
        incidents.incident_key as event_key,
        'incident' as event_source,
        coalesce(cities.city, incidents.source_profile) as city,
        coalesce(incidents.beat, incidents.district, 'unknown') as area_id,
        case
            when incidents.beat is not null then 'beat'
            when incidents.district is not null then 'district'
            else 'none'
        end as area_level,
        incidents.block_address,
        {{ month_start('incidents.reported_at_local') }} as event_month,
        coalesce(offence_categories.crime_against, incidents.offence_category) as crime_against,
        coalesce(offence_categories.is_violent, incidents.is_violent_reported, false) as is_violent,
        coalesce(
            offence_categories.is_property,
            incidents.offence_category = 'property' and not coalesce(incidents.is_violent_reported, false),
            false
        ) as is_property,
        coalesce(offence_categories.is_simple_assault, false) as is_simple_assault,
        coalesce(incidents.arrest_made, false) as is_arrest
    from incidents
    left join offence_categories
        on incidents.offence_code = offence_categories.offence_code
    left join cities
        on incidents.source_profile = cities.source_profile
),

unioned as (
    select
        event_key,
        event_source,
        city,
        area_id,
        area_level,
        block_address,
        event_month,
        case when coalesce(crime_against, '') <> 'society' then 1 else 0 end as reported_crimes,
        case when is_violent then 1 else 0 end as violent_crimes,
        case when is_property then 1 else 0 end as property_crimes,
        case when is_simple_assault then 1 else 0 end as simple_assaults,
        case when crime_against = 'society' then 1 else 0 end as society_offences,
        case when is_arrest then 1 else 0 end as incident_arrests,
        0 as officer_initiated_events,
        0 as stops,
        0 as stop_arrests,
        0 as stop_citations,
        0 as stops_with_known_outcome,
        0 as untethered_stops,
        0 as searches,
        0 as search_hits
    from incident_events

    union all

    select
        stops.stop_key as event_key,
        'stop' as event_source,
        stops.city,
        stops.area_id,
        stops.area_level,
        {{ null_text() }} as block_address,
        stops.stop_month as event_month,
        0 as reported_crimes,
        0 as violent_crimes,
        0 as property_crimes,
        0 as simple_assaults,
        0 as society_offences,
        0 as incident_arrests,
        0 as officer_initiated_events,
        1 as stops,
        case when stops.is_arrest then 1 else 0 end as stop_arrests,
        case when stops.is_citation then 1 else 0 end as stop_citations,
        case when stops.has_known_outcome then 1 else 0 end as stops_with_known_outcome,
        case when stops.is_untethered then 1 else 0 end as untethered_stops,
        case when stops.is_search then 1 else 0 end as searches,
        case when stops.is_search_hit then 1 else 0 end as search_hits
    from stops

    union all

    select
        calls.call_key as event_key,
        'officer_initiated_event' as event_source,
        coalesce(cities.city, calls.source_profile) as city,
        calls.area_id,
        calls.area_level,
        calls.block_address,
        calls.call_month as event_month,
        0 as reported_crimes,
        0 as violent_crimes,
        0 as property_crimes,
        0 as simple_assaults,
        0 as society_offences,
        0 as incident_arrests,
        1 as officer_initiated_events,
        0 as stops,
        0 as stop_arrests,
        0 as stop_citations,
        0 as stops_with_known_outcome,
        0 as untethered_stops,
        0 as searches,
        0 as search_hits
    from calls
    left join cities
        on calls.source_profile = cities.source_profile
    where calls.is_officer_initiated
)

select * from unioned
