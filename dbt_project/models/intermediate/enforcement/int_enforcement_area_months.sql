{#-
    Reported crime and enforcement per city x area x month, with a row for every area of the city
    in every month from the city's first recorded month to its last - an area with no crime, or a
    month with no events at all, is a row of zeros, not a missing row.
    Areas: the beats listed in the city's areas extract plus every area an event names.
    Residents: int_area_residents (the areas extract's population where it gives one, else the
    census estimate area-weighted from tracts); population_source says which.
-#}
with events as (
    select * from {{ ref('int_enforcement_events') }}
),

residents as (
    select * from {{ ref('int_area_residents') }}
),

listed_areas as (
    select
        city,
        area_id,
        'beat' as area_level
    from residents
    where in_areas_file
),

-- 'beat' < 'district' < 'none': an area listed as a beat stays a beat.
known_areas as (
    select
        city,
        area_id,
        min(area_level) as area_level
    from (
        select
            city,
            area_id,
            area_level
        from listed_areas
        union all
        select distinct
            city,
            area_id,
            area_level
        from events
    ) as named
    group by city, area_id
),

city_span as (
    select
        city,
        min(event_month) as first_month,
        max(event_month) as last_month
    from events
    group by city
),

series as (
    {{ integer_series(1200) }}
),

month_spine as (
    select
        city_span.city,
        {{ add_months('series.generated_number - 1', 'city_span.first_month') }} as event_month
    from city_span
    cross join series
    where series.generated_number - 1 <= {{ months_between('city_span.first_month', 'city_span.last_month') }}
),

counted as (
    select
        city,
        area_id,
        event_month,
        sum(reported_crimes) as reported_crimes,
        sum(violent_crimes) as violent_crimes,
        sum(property_crimes) as property_crimes,
        sum(simple_assaults) as simple_assaults,
        sum(society_offences) as society_offences,
        sum(incident_arrests) as incident_arrests,
        sum(officer_initiated_events) as officer_initiated_events,
        sum(stops) as stops,
        sum(stop_arrests) as stop_arrests,
        sum(stop_citations) as stop_citations,
        sum(stops_with_known_outcome) as stops_with_known_outcome,
        sum(untethered_stops) as untethered_stops,
        sum(searches) as searches,
        sum(search_hits) as search_hits
    from events
    group by city, area_id, event_month
),

final as (
    select
        month_spine.city,
        known_areas.area_id,
        known_areas.area_level,
        month_spine.event_month,
        residents.population,
        residents.population_source,
        coalesce(counted.reported_crimes, 0) as reported_crimes,
        coalesce(counted.violent_crimes, 0) as violent_crimes,
        coalesce(counted.property_crimes, 0) as property_crimes,
        coalesce(counted.simple_assaults, 0) as simple_assaults,
        coalesce(counted.society_offences, 0) as society_offences,
        coalesce(counted.incident_arrests, 0) as incident_arrests,
        coalesce(counted.officer_initiated_events, 0) as officer_initiated_events,
        coalesce(counted.stops, 0) as stops,
        coalesce(counted.stop_arrests, 0) as stop_arrests,
        coalesce(counted.stop_citations, 0) as stop_citations,
        coalesce(counted.stops_with_known_outcome, 0) as stops_with_known_outcome,
        coalesce(counted.untethered_stops, 0) as untethered_stops,
        coalesce(counted.searches, 0) as searches,
        coalesce(counted.search_hits, 0) as search_hits
    from month_spine
    inner join known_areas
        on month_spine.city = known_areas.city
    left join residents
        on
            known_areas.city = residents.city
            and known_areas.area_id = residents.area_id
    left join counted
        on
            month_spine.city = counted.city
            and known_areas.area_id = counted.area_id
            and month_spine.event_month = counted.event_month
)

select * from final
