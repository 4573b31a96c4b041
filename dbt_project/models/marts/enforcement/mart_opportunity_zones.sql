{#-
    Public Safety Opportunity Zones: per city x period x area, whether the area carries a high
    crime burden, a high level of police contact untethered to crime, both, or neither - with the
    measures behind the flag, its strength and a plain-language reason. Thresholds: dbt vars
    (dbt_project.yml, "Enforcement divergence and opportunity zones").

    high_untethered_contact: at least enforcement_min_stops stops; the area's share of the city's
        stops is at least opportunity_zone_stop_crime_ratio x its share of reported crime (an area
        with stops and no reported crime qualifies); and at least opportunity_zone_untethered_share
        of its stops ended with no arrest, citation or summons and no contraband.
    high_crime_burden: at least opportunity_zone_min_violent_crimes violent crimes, and a violent
        crime rate per resident at least opportunity_zone_violent_rate_ratio x the city's.
    Both flags test every area of the period at once, so each also needs a discovery under the
    Benjamini-Hochberg procedure at var('divergence_false_discovery_rate'): for untethered contact,
    stops beyond the area's share of crime (int_enforcement_divergence); for crime burden, violent
    crimes beyond the city's rate applied to the area's residents (one-sided, Freeman-Tukey
    deviate of the count against that expectation).
-#}
with divergence as (
    select * from {{ ref('int_enforcement_divergence') }}
),

-- What mart_enforcement_divergence publishes: a stop count it withholds is not shown here either.
published as (
    select
        city,
        period_type,
        period_start,
        area_id,
        stops,
        untethered_stops,
        stop_share,
        location_quotient,
        untethered_share
    from {{ ref('mart_enforcement_divergence') }}
),

measured as (
    select
        divergence.city,
        divergence.period_type,
        divergence.period_start,
        divergence.period_label,
        divergence.area_id,
        divergence.area_level,
        case when divergence.area_level in ('beat', 'district') then divergence.area_level else 'area' end as area_word,
        divergence.stops > 0 and published.stops is null as is_stops_withheld,
        published.stops as published_stops,
        published.untethered_stops as published_untethered_stops,
        published.stop_share as published_stop_share,
        published.location_quotient as published_location_quotient,
        published.untethered_share as published_untethered_share,
        divergence.population,
        divergence.location_quotient_p_value,
        divergence.is_location_quotient_discovery,
        divergence.reported_crimes,
        divergence.violent_crimes,
        divergence.stops,
        divergence.untethered_stops,
        divergence.city_reported_crimes,
        divergence.crime_share,
        divergence.stop_share,
        divergence.location_quotient,
        divergence.untethered_share,
        divergence.violent_crime_rate_per_1000,
        divergence.city_violent_crime_rate_per_1000,
        {{ divide('violent_crime_rate_per_1000', 'city_violent_crime_rate_per_1000') }} as violent_rate_ratio,
        {{ divide('crime_rate_per_1000', 'city_crime_rate_per_1000') }} as crime_rate_ratio,
        -- Can the flag be judged at all? (enough events, and something to compare with)
        divergence.area_level <> 'none'
        and divergence.city_reported_crimes > 0
        and divergence.stops >= {{ var('enforcement_min_stops') }}
        and divergence.untethered_share is not null as is_untethered_assessed,
        divergence.area_level <> 'none'
        and divergence.population > 0
        and divergence.city_violent_crime_rate_per_1000 > 0
        and divergence.violent_crimes >= {{ var('opportunity_zone_min_violent_crimes') }} as is_burden_assessed
    from divergence
    left join published
        on
            divergence.city = published.city
            and divergence.period_type = published.period_type
            and divergence.period_start = published.period_start
            and divergence.area_id = published.area_id
),

burden_tested as (
    select
        measured.*,
        case
            when is_burden_assessed then {{ upper_normal_p(
                'sqrt(violent_crimes) + sqrt(violent_crimes + 1)'
                ~ ' - sqrt(4 * city_violent_crime_rate_per_1000 * population / 1000 + 1)'
            ) }}
        end as crime_burden_p_value
    from measured
),

burden_discoveries as (
    {{ benjamini_hochberg(
        'burden_tested', 'crime_burden_p_value', ['city', 'period_type', 'period_start'], 'area_id',
        var('divergence_false_discovery_rate'), 'is_crime_burden_discovery'
    ) }}
),

thresholds as (
    select
        burden_discoveries.*,
        is_untethered_assessed
        and stop_share >= {{ var('opportunity_zone_stop_crime_ratio') }} * crime_share
        and untethered_share >= {{ var('opportunity_zone_untethered_share') }} as meets_untethered_thresholds,
        is_burden_assessed
        and violent_rate_ratio >= {{ var('opportunity_zone_violent_rate_ratio') }} as meets_burden_thresholds
    from burden_discoveries
),

flagged as (
    select
        thresholds.*,
        meets_untethered_thresholds and coalesce(is_location_quotient_discovery, false) as is_high_untethered_contact,
        meets_burden_thresholds and is_crime_burden_discovery as is_high_crime_burden,
        -- Strength: how far past its thresholds a flag is (1 = just at them); for the untethered
        -- flag the weaker of its two margins. An area with stops and no crime: the share margin.
        case
            when not is_untethered_assessed then null
            when crime_share = 0
                then {{ divide('untethered_share', var('opportunity_zone_untethered_share')) }}
            when
                {{ divide('location_quotient', var('opportunity_zone_stop_crime_ratio')) }}
                < {{ divide('untethered_share', var('opportunity_zone_untethered_share')) }}
                then {{ divide('location_quotient', var('opportunity_zone_stop_crime_ratio')) }}
            else {{ divide('untethered_share', var('opportunity_zone_untethered_share')) }}
        end as untethered_contact_strength,
        case
            when is_burden_assessed
                then {{ divide('violent_rate_ratio', var('opportunity_zone_violent_rate_ratio')) }}
        end as crime_burden_strength
    from thresholds
),

zoned as (
    select
        flagged.*,
        case
            when is_high_crime_burden and is_high_untethered_contact then 'both'
            when is_high_crime_burden then 'high_crime_burden'
            when is_high_untethered_contact then 'high_untethered_contact'
            else 'none'
        end as zone_flag,
        case
            when is_high_crime_burden and is_high_untethered_contact
                then
                    case
                        when crime_burden_strength > untethered_contact_strength then crime_burden_strength
                        else untethered_contact_strength
                    end
            when is_high_crime_burden then crime_burden_strength
            when is_high_untethered_contact then untethered_contact_strength
        end as zone_strength,
        case
            when area_level = 'none' then 'events with no recorded area'
            when city_reported_crimes = 0 or city_reported_crimes is null
                then 'no reported crime in the city to compare stops with'
            when is_stops_withheld
                then 'untethered contact not shown: the stop count is withheld (small-cell rule)'
            when stops < {{ var('enforcement_min_stops') }}
                then {{ join_text([
                    "'untethered contact not assessed: '",
                    count_text('stops'),
                    "' stops (fewer than " ~ var('enforcement_min_stops') ~ ")'",
                ]) }}
            when untethered_share is null then 'untethered contact not assessed: no stop outcome recorded'
            when published_untethered_share is null
                then 'untethered contact not shown: the untethered stop count is withheld (small-cell rule)'
            when crime_share = 0
                then {{ join_text([
                    "'stops with no reported crime in this '", "area_word", "'; '",
                    percent_text('untethered_share'), "'% ended with at most a warning and found no contraband'",
                    "case when meets_untethered_thresholds and not is_high_untethered_contact then '; not told apart from chance with every area tested at once' else '' end",
                ]) }}
            else {{ join_text([
                "'stops are '", ratio_text('location_quotient'), "'x this '", "area_word",
                "'''s share of crime; '", percent_text('untethered_share'),
                "'% ended with at most a warning and found no contraband'",
                "case when meets_untethered_thresholds and not is_high_untethered_contact then '; not told apart from chance with every area tested at once' else '' end",
            ]) }}
        end as untethered_contact_reason,
        case
            when area_level = 'none' then 'events with no recorded area'
            when population is null or population <= 0 then 'crime burden not assessed: no residential population'
            when city_violent_crime_rate_per_1000 is null or city_violent_crime_rate_per_1000 = 0
                then 'crime burden not assessed: no violent crime in the city'
            when violent_crimes < {{ var('opportunity_zone_min_violent_crimes') }}
                then {{ join_text([
                    "'crime burden not assessed: '",
                    "case when " ~ is_published('violent_crimes') ~ " then " ~ count_text('violent_crimes')
                    ~ " else 'fewer than " ~ var('min_cell_count') ~ "' end",
                    "' violent crimes (fewer than " ~ var('opportunity_zone_min_violent_crimes') ~ ")'",
                ]) }}
            else {{ join_text([
                "'violent crime is '", ratio_text('violent_rate_ratio'),
                "'x the city rate per resident ('", count_text('violent_crimes'), "' violent crimes)'",
                "case when meets_burden_thresholds and not is_high_crime_burden then '; not told apart from chance with every area tested at once' else '' end",
            ]) }}
        end as crime_burden_reason
    from flagged
)

select
    city,
    period_type,
    period_start,
    period_label,
    area_id,
    area_level,
    zone_flag,
    case
        when not (is_high_untethered_contact and (is_stops_withheld or published_untethered_share is null))
            then zone_strength
    end as zone_strength,
    case
        when is_high_untethered_contact and (is_stops_withheld or published_untethered_share is null) then null
        when zone_strength >= {{ var('opportunity_zone_strong_strength') }} then 'strong'
        when zone_strength is not null then 'moderate'
    end as zone_strength_band,
    case
        when area_level = 'none' then 'not an area: events with no recorded area'
        when zone_flag = 'both' then {{ join_text(['crime_burden_reason', "'; '", 'untethered_contact_reason']) }}
        when zone_flag = 'high_crime_burden' then crime_burden_reason
        when zone_flag = 'high_untethered_contact' then untethered_contact_reason
        else {{ join_text(["'not flagged: '", 'untethered_contact_reason', "'; '", 'crime_burden_reason']) }}
    end as reason,
    is_high_untethered_contact,
    is_high_crime_burden,
    is_untethered_assessed,
    is_burden_assessed,
    case
        when not is_stops_withheld and published_untethered_share is not null then untethered_contact_strength
    end as untethered_contact_strength,
    crime_burden_strength,
    population,
    reported_crimes,
    violent_crimes,
    published_stops as stops,
    published_untethered_stops as untethered_stops,
    city_reported_crimes,
    crime_share,
    published_stop_share as stop_share,
    published_location_quotient as location_quotient,
    published_untethered_share as untethered_share,
    violent_crime_rate_per_1000,
    city_violent_crime_rate_per_1000,
    violent_rate_ratio,
    crime_rate_ratio,
    case
        when not is_stops_withheld and published_untethered_share is not null then location_quotient_p_value
    end as untethered_contact_p_value,
    crime_burden_p_value,
    untethered_contact_reason,
    crime_burden_reason
from zoned
