{#-
    The divergence measures before the disclosure rule (mart_enforcement_divergence publishes them
    with small stop-derived counts withheld; mart_opportunity_zones and the scorecard judge on these).
    Where enforcement diverges from reported crime: per city x period (month, quarter, year) x area,
    crime and enforcement counts, their shares of the city, rates per 1,000 residents, and the
    location quotient (the area's share of the city's stops / its share of the city's reported
    crime), ranked within the period. Area-periods with fewer reported crimes or stops than the
    minimums (vars enforcement_min_crimes, enforcement_min_stops) are marked and not ranked.
    Every area with at least enforcement_min_stops stops is tested for stops beyond its share of
    crime (location_quotient_p_value, one-sided, from the log quotient's standard error); the
    areas of a period are tested together, so a discovery is judged by the Benjamini-Hochberg
    procedure at false discovery rate var('divergence_false_discovery_rate').
-#}
{%- set too_few_both = 'fewer than ' ~ var('enforcement_min_crimes') ~ ' reported crimes and '
    ~ var('enforcement_min_stops') ~ ' stops' -%}

with area_months as (
    select * from {{ ref('int_enforcement_area_months') }}
),

period_types as (
    {{ period_types() }}
),

by_period as (
    select
        area_months.city,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'area_months.event_month') }} as period_start,
        area_months.area_id,
        area_months.area_level,
        area_months.population,
        area_months.population_source,
        sum(area_months.reported_crimes) as reported_crimes,
        sum(area_months.violent_crimes) as violent_crimes,
        sum(area_months.property_crimes) as property_crimes,
        sum(area_months.simple_assaults) as simple_assaults,
        sum(area_months.society_offences) as society_offences,
        sum(area_months.officer_initiated_events) as officer_initiated_events,
        sum(area_months.stops) as stops,
        sum(area_months.stop_arrests + area_months.incident_arrests) as arrests,
        sum(area_months.stop_arrests) as stop_arrests,
        sum(area_months.incident_arrests) as incident_arrests,
        sum(area_months.stop_citations) as citations,
        sum(area_months.stops_with_known_outcome) as stops_with_known_outcome,
        sum(area_months.untethered_stops) as untethered_stops,
        sum(area_months.searches) as searches,
        sum(area_months.search_hits) as search_hits
    from area_months
    cross join period_types
    group by
        area_months.city,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'area_months.event_month') }},
        area_months.area_id,
        area_months.area_level,
        area_months.population,
        area_months.population_source
),

with_city as (
    select
        by_period.*,
        sum(reported_crimes) over city_period as city_reported_crimes,
        sum(violent_crimes) over city_period as city_violent_crimes,
        sum(property_crimes) over city_period as city_property_crimes,
        sum(officer_initiated_events) over city_period as city_officer_initiated_events,
        sum(stops) over city_period as city_stops,
        sum(arrests) over city_period as city_arrests,
        sum(citations) over city_period as city_citations,
        sum(untethered_stops) over city_period as city_untethered_stops,
        sum(stops_with_known_outcome) over city_period as city_stops_with_known_outcome,
        -- City rates per resident count only the areas whose population is known.
        sum(case when population > 0 then population end) over city_period as city_population,
        sum(case when population > 0 then reported_crimes end) over city_period as populated_reported_crimes,
        sum(case when population > 0 then violent_crimes end) over city_period as populated_violent_crimes,
        sum(case when population > 0 then stops end) over city_period as populated_stops
    from by_period
    window city_period as (partition by city, period_type, period_start)
),

measured as (
    select
        city,
        period_type,
        period_start,
        area_id,
        area_level,
        population,
        population_source,

        -- reported crime
        reported_crimes,
        violent_crimes,
        property_crimes,
        simple_assaults,
        society_offences,
        {{ divide('reported_crimes', 'city_reported_crimes') }} as crime_share,
        {{ divide('violent_crimes', 'city_violent_crimes') }} as violent_crime_share,
        {{ divide('property_crimes', 'city_property_crimes') }} as property_crime_share,
        {%- for count, total, share in [
            ('reported_crimes', 'city_reported_crimes', 'crime_share'),
            ('violent_crimes', 'city_violent_crimes', 'violent_crime_share'),
            ('property_crimes', 'city_property_crimes', 'property_crime_share'),
            ('officer_initiated_events', 'city_officer_initiated_events', 'officer_initiated_share'),
        ] %}
            {{ wilson_low(count, total) }} as {{ share }}_low,
            {{ wilson_high(count, total) }} as {{ share }}_high,
        {%- endfor %}
        {{ divide('reported_crimes * 1000', 'population') }} as crime_rate_per_1000,
        {{ divide('violent_crimes * 1000', 'population') }} as violent_crime_rate_per_1000,
        {{ divide('property_crimes * 1000', 'population') }} as property_crime_rate_per_1000,

        -- enforcement
        officer_initiated_events,
        stops,
        arrests,
        stop_arrests,
        incident_arrests,
        citations,
        {{ divide('officer_initiated_events', 'city_officer_initiated_events') }} as officer_initiated_share,
        {{ divide('stops', 'city_stops') }} as stop_share,
        {{ divide('arrests', 'city_arrests') }} as arrest_share,
        {{ divide('citations', 'city_citations') }} as citation_share,
        {{ wilson_low('arrests', 'city_arrests') }} as arrest_share_low,
        {{ wilson_high('arrests', 'city_arrests') }} as arrest_share_high,
        {{ wilson_low('citations', 'city_citations') }} as citation_share_low,
        {{ wilson_high('citations', 'city_citations') }} as citation_share_high,
        {{ divide('officer_initiated_events * 1000', 'population') }} as officer_initiated_rate_per_1000,
        {{ divide('stops * 1000', 'population') }} as stop_rate_per_1000,
        {{ divide('arrests * 1000', 'population') }} as arrest_rate_per_1000,
        {{ divide('citations * 1000', 'population') }} as citation_rate_per_1000,

        -- contact untethered to crime
        stops_with_known_outcome,
        untethered_stops,
        {{ divide('untethered_stops', 'stops_with_known_outcome') }} as untethered_share,
        searches,
        search_hits,

        -- the city in the same period
        city_reported_crimes,
        city_violent_crimes,
        city_officer_initiated_events,
        city_stops,
        city_population,
        {{ divide('populated_reported_crimes * 1000', 'city_population') }} as city_crime_rate_per_1000,
        {{ divide('populated_violent_crimes * 1000', 'city_population') }} as city_violent_crime_rate_per_1000,
        {{ divide('populated_stops * 1000', 'city_population') }} as city_stop_rate_per_1000,
        {{ divide('city_untethered_stops', 'city_stops_with_known_outcome') }} as city_untethered_share,

        -- small counts
        case
            when area_level = 'none' then 'events with no recorded area'
            when reported_crimes < {{ var('enforcement_min_crimes') }} and stops < {{ var('enforcement_min_stops') }}
                then '{{ too_few_both }}'
            when reported_crimes < {{ var('enforcement_min_crimes') }}
                then 'fewer than {{ var("enforcement_min_crimes") }} reported crimes'
            when stops < {{ var('enforcement_min_stops') }}
                then 'fewer than {{ var("enforcement_min_stops") }} stops'
        end as small_count_reason
    from with_city
),

ratios as (
    select
        measured.*,
        {{ divide('stop_share', 'crime_share') }} as location_quotient,
        {{ divide('officer_initiated_share', 'crime_share') }} as officer_initiated_location_quotient,
        {{ quotient_of_shares_low('officer_initiated_events', 'city_officer_initiated_events',
            'reported_crimes', 'city_reported_crimes') }} as officer_initiated_location_quotient_low,
        {{ quotient_of_shares_high('officer_initiated_events', 'city_officer_initiated_events',
            'reported_crimes', 'city_reported_crimes') }} as officer_initiated_location_quotient_high,
        small_count_reason is not null as is_small_count
    from measured
),

ranked as (
    select
        ratios.*,
        not is_small_count and location_quotient is not null as is_ranked,
        rank() over (
            partition by city, period_type, period_start, (not is_small_count and location_quotient is not null)
            order by location_quotient desc
        ) as rank_within_group,
        sum(case when not is_small_count and location_quotient is not null then 1 else 0 end)
            over (partition by city, period_type, period_start) as areas_ranked,
        case
            when area_level <> 'none' and stops >= {{ var('enforcement_min_stops') }}
                then {{ quotient_of_shares_z('stops', 'city_stops', 'reported_crimes', 'city_reported_crimes') }}
        end as location_quotient_z
    from ratios
),

tested as (
    select
        ranked.*,
        {{ upper_normal_p('location_quotient_z') }} as location_quotient_p_value
    from ranked
),

discoveries as (
    {{ benjamini_hochberg(
        'tested', 'location_quotient_p_value', ['city', 'period_type', 'period_start'], 'area_id',
        var('divergence_false_discovery_rate'), 'is_location_quotient_discovery'
    ) }}
)

select
    city,
    period_type,
    period_start,
    {{ period_label('period_type', 'period_start') }} as period_label,
    area_id,
    area_level,
    population,
    population_source,
    reported_crimes,
    violent_crimes,
    property_crimes,
    simple_assaults,
    society_offences,
    crime_share,
    violent_crime_share,
    property_crime_share,
    crime_rate_per_1000,
    violent_crime_rate_per_1000,
    property_crime_rate_per_1000,
    officer_initiated_events,
    stops,
    arrests,
    stop_arrests,
    incident_arrests,
    citations,
    officer_initiated_share,
    stop_share,
    arrest_share,
    citation_share,
    crime_share_low,
    crime_share_high,
    violent_crime_share_low,
    violent_crime_share_high,
    property_crime_share_low,
    property_crime_share_high,
    officer_initiated_share_low,
    officer_initiated_share_high,
    arrest_share_low,
    arrest_share_high,
    citation_share_low,
    citation_share_high,
    officer_initiated_rate_per_1000,
    stop_rate_per_1000,
    arrest_rate_per_1000,
    citation_rate_per_1000,
    location_quotient,
    officer_initiated_location_quotient,
    officer_initiated_location_quotient_low,
    officer_initiated_location_quotient_high,
    case when is_ranked then rank_within_group end as location_quotient_rank,
    areas_ranked,
    is_ranked,
    location_quotient_p_value,
    is_location_quotient_discovery,
    is_small_count,
    small_count_reason,
    stops_with_known_outcome,
    untethered_stops,
    untethered_share,
    searches,
    search_hits,
    city_reported_crimes,
    city_violent_crimes,
    city_stops,
    city_population,
    city_crime_rate_per_1000,
    city_violent_crime_rate_per_1000,
    city_stop_rate_per_1000,
    city_untethered_share
from discoveries
