{#-
    Where enforcement diverges from reported crime, as published: per city x period (month,
    quarter, year) x area (int_enforcement_divergence holds the measures and their ranks). The
    disclosure rule: stops, searches and hits are mart_stop_equity's published 'all' rows (withheld
    there, small or as a complement, withheld here), and every share, rate or quotient made from a
    withheld stop count is NULL; arrests, citations and stops with a known or untethered outcome
    from 1 to var('min_cell_count') - 1 are NULL, with the shares and rates made from them.
-#}
with divergence as (
    select * from {{ ref('int_enforcement_divergence') }}
),

stop_equity as (
    select
        city,
        period_type,
        period_start,
        area_id,
        stops,
        searches,
        search_hits,
        stops is null as stops_withheld
    from {{ ref('mart_stop_equity') }}
    where group_type = 'all' and area_id <> 'all'
)

select
    divergence.city,
    divergence.period_type,
    divergence.period_start,
    divergence.period_label,
    divergence.area_id,
    divergence.area_level,
    divergence.population,
    divergence.population_source,
    divergence.reported_crimes,
    divergence.violent_crimes,
    divergence.property_crimes,
    divergence.simple_assaults,
    divergence.society_offences,
    divergence.crime_share,
    divergence.violent_crime_share,
    divergence.property_crime_share,
    divergence.crime_rate_per_1000,
    divergence.violent_crime_rate_per_1000,
    divergence.property_crime_rate_per_1000,
    divergence.officer_initiated_events,
    case
        when stop_equity.city is null then {{ published_count('divergence.stops') }} else stop_equity.stops
    end as stops,
    case when {{ is_published('divergence.stop_arrests') }} then divergence.arrests end as arrests,
    {{ published_count('divergence.stop_arrests') }} as stop_arrests,
    divergence.incident_arrests,
    {{ published_count('divergence.citations') }} as citations,
    divergence.officer_initiated_share,
    case when not coalesce(stop_equity.stops_withheld, false) then divergence.stop_share end as stop_share,
    case when {{ is_published('divergence.stop_arrests') }} then divergence.arrest_share end as arrest_share,
    case when {{ is_published('divergence.citations') }} then divergence.citation_share end as citation_share,
    divergence.officer_initiated_rate_per_1000,
    case
        when not coalesce(stop_equity.stops_withheld, false) then divergence.stop_rate_per_1000
    end as stop_rate_per_1000,
    case
        when {{ is_published('divergence.stop_arrests') }} then divergence.arrest_rate_per_1000
    end as arrest_rate_per_1000,
    case
        when {{ is_published('divergence.citations') }} then divergence.citation_rate_per_1000
    end as citation_rate_per_1000,
    case
        when not coalesce(stop_equity.stops_withheld, false) then divergence.location_quotient
    end as location_quotient,
    divergence.officer_initiated_location_quotient,
    divergence.officer_initiated_location_quotient_low,
    divergence.officer_initiated_location_quotient_high,
    divergence.location_quotient_rank,
    case
        when not coalesce(stop_equity.stops_withheld, false) then divergence.location_quotient_p_value
    end as location_quotient_p_value,
    case
        when not coalesce(stop_equity.stops_withheld, false) then divergence.is_location_quotient_discovery
    end as is_location_quotient_discovery,
    divergence.areas_ranked,
    divergence.is_ranked,
    divergence.is_small_count,
    divergence.small_count_reason,
    {{ published_count('divergence.stops_with_known_outcome') }} as stops_with_known_outcome,
    {{ published_count('divergence.untethered_stops') }} as untethered_stops,
    case
        when
            {{ is_published('divergence.untethered_stops') }}
            and {{ is_published('divergence.stops_with_known_outcome') }}
            then divergence.untethered_share
    end as untethered_share,
    case
        when stop_equity.city is null then {{ published_count('divergence.searches') }} else stop_equity.searches
    end as searches,
    case
        when stop_equity.city is null then {{ published_count('divergence.search_hits') }} else stop_equity.search_hits
    end as search_hits,
    divergence.city_reported_crimes,
    divergence.city_violent_crimes,
    divergence.city_stops,
    divergence.city_population,
    divergence.city_crime_rate_per_1000,
    divergence.city_violent_crime_rate_per_1000,
    divergence.city_stop_rate_per_1000,
    divergence.city_untethered_share,

    -- 95 % Wilson score intervals of the two stop shares (NULL where the share is)
    case
        when
            divergence.untethered_share is not null
            and {{ is_published('divergence.untethered_stops') }}
            and {{ is_published('divergence.stops_with_known_outcome') }}
            then {{ wilson_low('divergence.untethered_stops', 'divergence.stops_with_known_outcome') }}
    end as untethered_share_low,
    case
        when
            divergence.untethered_share is not null
            and {{ is_published('divergence.untethered_stops') }}
            and {{ is_published('divergence.stops_with_known_outcome') }}
            then {{ wilson_high('divergence.untethered_stops', 'divergence.stops_with_known_outcome') }}
    end as untethered_share_high,
    case
        when divergence.stop_share is not null and not coalesce(stop_equity.stops_withheld, false)
            then {{ wilson_low('divergence.stops', 'divergence.city_stops') }}
    end as stop_share_low,
    case
        when divergence.stop_share is not null and not coalesce(stop_equity.stops_withheld, false)
            then {{ wilson_high('divergence.stops', 'divergence.city_stops') }}
    end as stop_share_high,

    -- 95 % Wilson score intervals of the area's shares of the city's crime and officer-initiated
    -- events (events, not people: published as the shares are)
    divergence.crime_share_low,
    divergence.crime_share_high,
    divergence.violent_crime_share_low,
    divergence.violent_crime_share_high,
    divergence.property_crime_share_low,
    divergence.property_crime_share_high,
    divergence.officer_initiated_share_low,
    divergence.officer_initiated_share_high,

    -- 95 % Wilson score intervals of the area's shares of the city's arrests and citations
    case when {{ is_published('divergence.stop_arrests') }} then divergence.arrest_share_low end as arrest_share_low,
    case when {{ is_published('divergence.stop_arrests') }} then divergence.arrest_share_high end as arrest_share_high,
    case when {{ is_published('divergence.citations') }} then divergence.citation_share_low end as citation_share_low,
    case when {{ is_published('divergence.citations') }} then divergence.citation_share_high end as citation_share_high,

    -- 95 % interval of the location quotient (log scale, delta method), NULL where it is
    case
        when divergence.location_quotient is not null and not coalesce(stop_equity.stops_withheld, false)
            then {{ quotient_of_shares_low('divergence.stops', 'divergence.city_stops',
                'divergence.reported_crimes', 'divergence.city_reported_crimes') }}
    end as location_quotient_low,
    case
        when divergence.location_quotient is not null and not coalesce(stop_equity.stops_withheld, false)
            then {{ quotient_of_shares_high('divergence.stops', 'divergence.city_stops',
                'divergence.reported_crimes', 'divergence.city_reported_crimes') }}
    end as location_quotient_high,

    -- 95 % intervals of the rates per 1,000 residents (exact Poisson limits of the count over the
    -- population), NULL where the rate is
    {{ poisson_low('divergence.reported_crimes') }} * 1000 / nullif(divergence.population, 0)
        as crime_rate_per_1000_low,
    {{ poisson_high('divergence.reported_crimes') }} * 1000 / nullif(divergence.population, 0)
        as crime_rate_per_1000_high,
    {{ poisson_low('divergence.violent_crimes') }} * 1000 / nullif(divergence.population, 0)
        as violent_crime_rate_per_1000_low,
    {{ poisson_high('divergence.violent_crimes') }} * 1000 / nullif(divergence.population, 0)
        as violent_crime_rate_per_1000_high,
    case
        when divergence.stop_rate_per_1000 is not null and not coalesce(stop_equity.stops_withheld, false)
            then {{ poisson_low('divergence.stops') }} * 1000 / nullif(divergence.population, 0)
    end as stop_rate_per_1000_low,
    case
        when divergence.stop_rate_per_1000 is not null and not coalesce(stop_equity.stops_withheld, false)
            then {{ poisson_high('divergence.stops') }} * 1000 / nullif(divergence.population, 0)
    end as stop_rate_per_1000_high,
    case
        when {{ is_published('divergence.stop_arrests') }}
            then {{ poisson_low('divergence.arrests') }} * 1000 / nullif(divergence.population, 0)
    end as arrest_rate_per_1000_low,
    case
        when {{ is_published('divergence.stop_arrests') }}
            then {{ poisson_high('divergence.arrests') }} * 1000 / nullif(divergence.population, 0)
    end as arrest_rate_per_1000_high,
    case
        when {{ is_published('divergence.citations') }}
            then {{ poisson_low('divergence.citations') }} * 1000 / nullif(divergence.population, 0)
    end as citation_rate_per_1000_low,
    case
        when {{ is_published('divergence.citations') }}
            then {{ poisson_high('divergence.citations') }} * 1000 / nullif(divergence.population, 0)
    end as citation_rate_per_1000_high
from divergence
left join stop_equity
    on
        divergence.city = stop_equity.city
        and divergence.period_type = stop_equity.period_type
        and divergence.period_start = stop_equity.period_start
        and divergence.area_id = stop_equity.area_id
