{#-
    Response-time KPIs per month x priority x area, with 'all' rows for every priority and every
    area (so the city-wide figure is never lost to suppression). Community-generated calls only.
    Small cells: a row whose calls (or timed calls) number from 1 to min_cell_count - 1 publishes
    no counts and no statistics (is_suppressed).
    Every row carries 95 % distribution-free intervals of the median and 90th percentile from call
    to on scene: the order statistics at the ranks of macros/intervals.sql (the month's calls read
    as a sample of the service the city gives).
    Incremental by month (macros/incremental.sql): a build recomputes only the months the calls
    admitted since the last build touched, and every month of a source whose availability of
    response times (any timed call at all) changed with them.
-#}
{{
    config(
        materialized=large_fact_materialization(),
        unique_key=['source_profile', 'call_month'],
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}
{%- set intervals = ['received_to_dispatch', 'dispatch_to_on_scene', 'received_to_on_scene'] -%}
{#- group_by lists real columns only: PostgreSQL refuses a constant in GROUP BY -#}
{%- set levels = [
    {'priority': 'priority', 'area_id': 'area_id', 'area_level': 'area_level',
     'group_by': ['priority', 'area_id', 'area_level']},
    {'priority': "'all'", 'area_id': 'area_id', 'area_level': 'area_level', 'group_by': ['area_id', 'area_level']},
    {'priority': 'priority', 'area_id': "'all'", 'area_level': "'all'", 'group_by': ['priority']},
    {'priority': "'all'", 'area_id': "'all'", 'area_level': "'all'", 'group_by': []},
] -%}
with all_calls as (
    select * from {{ ref('int_call_response_intervals') }}
),

-- a source whose extract carries no dispatch or arrival time at all has no response times
-- (judged on every month of it, on every build)
sources as (
    select
        source_profile,
        sum(case when received_to_on_scene_minutes is not null then 1 else 0 end) > 0 as response_times_available
    from all_calls
    group by source_profile
),

-- touched is read by in_touched_months on an incremental build only (a full build renders no join)
touched as (  -- noqa: ST03
    {{ months_touched_since_last_build('calls_for_service', 'call_id', 'received_at') }}
    {%- if is_incremental() %}
        union
        select distinct
            all_calls.source_profile,
            all_calls.call_month
        from all_calls
        inner join sources
            on all_calls.source_profile = sources.source_profile
        inner join (select distinct source_profile, response_times_available from {{ this }}) as built
            on
                sources.source_profile = built.source_profile
                and sources.response_times_available <> built.response_times_available
    {%- endif %}
),

calls as (
    select all_calls.* from all_calls
    {{ in_touched_months('all_calls', 'call_month') }}
),

{% for level in levels %}
    level_{{ loop.index }} as (
        select
            source_profile,
            city,
            call_month,
            {{ level.priority }} as priority,  -- noqa: AL09
            {{ level.area_id }} as area_id,  -- noqa: AL09
            {{ level.area_level }} as area_level,  -- noqa: AL09
            count(*) as calls,
            sum(case when received_to_on_scene_minutes is not null then 1 else 0 end) as calls_timed,
            sum(case when received_to_dispatch_minutes is not null then 1 else 0 end) as calls_dispatched,
            sum(case when is_within_target then 1 else 0 end) as calls_within_target,
            sum(case when is_within_target is not null then 1 else 0 end) as calls_with_target,
            {%- for interval in intervals %}
                {{ percentiles_cont(interval ~ '_minutes', [0.5, 0.9]) }} as {{ interval }}_percentiles,
            {%- endfor %}
            max(target_minutes) as max_target_minutes,
            min(target_minutes) as min_target_minutes,
            max(admitted_at) as admitted_through
        from calls
        group by {{ (['source_profile', 'city', 'call_month'] + level.group_by) | join(', ') }}
    ),

{% endfor %}
unioned as (
    {% for level in levels %}
        select * from level_{{ loop.index }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

-- each level's intervals: every timed call's position among its group's, and the order statistics
-- at the interval's ranks
{% for level in levels %}
    positions_{{ loop.index }} as (
        select
            source_profile,
            city,
            call_month,
            {{ level.priority }} as priority,  -- noqa: AL09
            {{ level.area_id }} as area_id,  -- noqa: AL09
            {{ level.area_level }} as area_level,  -- noqa: AL09
            received_to_on_scene_minutes as minutes,
            row_number() over (
                partition by {{ (['source_profile', 'city', 'call_month'] + level.group_by) | join(', ') }}
                order by received_to_on_scene_minutes
            ) as position,
            count(*) over (
                partition by {{ (['source_profile', 'city', 'call_month'] + level.group_by) | join(', ') }}
            ) as timed
        from calls
        where received_to_on_scene_minutes is not null
    ),

{% endfor %}
positions as (
    {% for level in levels %}
        select * from positions_{{ loop.index }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

percentile_intervals as (
    select
        source_profile,
        city,
        call_month,
        priority,
        area_id,
        area_level,
        max(case when position = {{ order_statistic_rank_low('timed', 0.5) }} then minutes end)
            as median_received_to_on_scene_minutes_low,
        max(case when position = {{ order_statistic_rank_high('timed', 0.5) }} then minutes end)
            as median_received_to_on_scene_minutes_high,
        max(case when position = {{ order_statistic_rank_low('timed', 0.9) }} then minutes end)
            as p90_received_to_on_scene_minutes_low,
        max(case when position = {{ order_statistic_rank_high('timed', 0.9) }} then minutes end)
            as p90_received_to_on_scene_minutes_high
    from positions
    group by source_profile, city, call_month, priority, area_id, area_level
),

flagged as (
    select
        unioned.*,
        sources.response_times_available,
        unioned.calls < {{ var('min_cell_count') }}
        or (sources.response_times_available and unioned.calls_timed < {{ var('min_cell_count') }})
            as is_suppressed
    from unioned
    inner join sources
        on unioned.source_profile = sources.source_profile
),

with_intervals as (
    select
        flagged.*,
        percentile_intervals.median_received_to_on_scene_minutes_low,
        percentile_intervals.median_received_to_on_scene_minutes_high,
        percentile_intervals.p90_received_to_on_scene_minutes_low,
        percentile_intervals.p90_received_to_on_scene_minutes_high
    from flagged
    left join percentile_intervals
        on
            flagged.source_profile = percentile_intervals.source_profile
            and flagged.city = percentile_intervals.city
            and flagged.call_month = percentile_intervals.call_month
            and flagged.priority is not distinct from percentile_intervals.priority
            and flagged.area_id is not distinct from percentile_intervals.area_id
            and flagged.area_level is not distinct from percentile_intervals.area_level
),

final as (
    select
        -- grain
        source_profile,
        city,
        call_month,
        priority,
        area_id,
        area_level,

        -- availability and suppression
        response_times_available,
        case
            when not response_times_available
                then 'not available: the extract records no dispatch or arrival times'
            when is_suppressed
                then 'suppressed: fewer than {{ var("min_cell_count") }} calls'
            else 'published'
        end as publication_status,
        is_suppressed,

        -- counts (never from 1 to min_cell_count - 1)
        case when not is_suppressed then calls end as calls,
        case when not is_suppressed and response_times_available then calls_timed end as calls_timed,

        -- intervals in minutes
        {%- for interval in intervals %}
            case
                when not is_suppressed and response_times_available
                    then {{ percentile_item(interval ~ '_percentiles', 1) }}
            end as median_{{ interval }}_minutes,
            case
                when not is_suppressed and response_times_available
                    then {{ percentile_item(interval ~ '_percentiles', 2) }}
            end as p90_{{ interval }}_minutes,
        {%- endfor %}
        {%- for name in ['median', 'p90'] %}
            {%- for end in ['low', 'high'] %}
                case
                    when not is_suppressed and response_times_available
                        then {{ name }}_received_to_on_scene_minutes_{{ end }}
                end as {{ name }}_received_to_on_scene_minutes_{{ end }},
            {%- endfor %}
        {%- endfor %}

        -- targets: one target for a single priority; a mix of targets for 'all'
        case when min_target_minutes = max_target_minutes then min_target_minutes end as target_minutes,
        case
            when
                not is_suppressed and calls_with_target >= {{ var('min_cell_count') }}
                then cast(calls_within_target as {{ type_double() }}) / calls_with_target
        end as share_within_target,
        -- its 95 % Wilson score interval (macros/intervals.sql)
        case
            when
                not is_suppressed and calls_with_target >= {{ var('min_cell_count') }}
                then {{ wilson_low('calls_within_target', 'calls_with_target') }}
        end as share_within_target_low,
        case
            when
                not is_suppressed and calls_with_target >= {{ var('min_cell_count') }}
                then {{ wilson_high('calls_within_target', 'calls_with_target') }}
        end as share_within_target_high,

        -- the incremental watermark
        admitted_through
    from with_intervals
)

select * from final
