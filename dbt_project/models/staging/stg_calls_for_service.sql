{{
    config(
        materialized=large_fact_materialization(),
        unique_key='call_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

-- the latest landing of an id wins: a corrected record replaces the earlier one
with {{ latest_versions(source('raw', 'calls_for_service'), 'call_id', unit_column='unit_id') }},

{#
    One row per responding unit (a profile of grain unit: landing names each row's unit): the
    latest file's rows of a call are collapsed into one call. The rule: the call's descriptive
    fields (source, type, priority, disposition, place) are those of its first unit row (earliest
    dispatch, then earliest in the file); received, dispatched, en route and arrived are the
    earliest of its rows, cleared the latest; units assigned is the count of distinct units. Rows
    that disagree on type, priority, disposition or beat are counted in unit_row_conflicts.
    Only ids landed on more than one row are grouped (latest_again), so a file of one row per
    call pays nothing for it.
#}
unit_calls as (
    select
        _source_profile,
        call_id,
        count(*) as unit_rows,
        count(distinct unit_id) as units,
        min(received_at) as received_at,
        min(dispatched_at) as dispatched_at,
        min(enroute_at) as enroute_at,
        min(arrived_at) as arrived_at,
        max(cleared_at) as cleared_at,
        case when count(distinct call_type) > 1 then 1 else 0 end
        + case when count(distinct priority) > 1 then 1 else 0 end
        + case when count(distinct disposition) > 1 then 1 else 0 end
        + case when count(distinct beat) > 1 then 1 else 0 end as unit_row_conflicts
    from latest_again
    where unit_id is not null
    group by _source_profile, call_id
    having count(*) > 1
),

unit_order as (
    select
        latest_again._batch_id,
        latest_again._row_number,
        row_number() over (
            partition by latest_again._source_profile, latest_again.call_id
            order by coalesce(latest_again.dispatched_at, '9999-12-31 23:59:59'), latest_again._row_number
        ) as unit_rank
    from latest_again
    inner join unit_calls
        on
            latest_again._source_profile = unit_calls._source_profile
            and latest_again.call_id = unit_calls.call_id
    where latest_again.unit_id is not null
),

calls as (
    select
        source.*,
        unit_calls.unit_rows,
        unit_calls.units,
        unit_calls.unit_row_conflicts,
        unit_calls.received_at as first_received_at,
        unit_calls.dispatched_at as first_dispatched_at,
        unit_calls.enroute_at as first_enroute_at,
        unit_calls.arrived_at as first_arrived_at,
        unit_calls.cleared_at as last_cleared_at
    from source
    left join unit_calls
        on
            source._source_profile = unit_calls._source_profile
            and source.call_id = unit_calls.call_id
    left join unit_order
        on
            source._batch_id = unit_order._batch_id
            and source._row_number = unit_order._row_number
    where coalesce(unit_order.unit_rank, 1) = 1
),

{#- a lookup file fills these where the record's own value is empty (orchestration/landing/profiles.py LOOKUP_FIELDS) #}
{{ lookup_fills('calls', ['call_source', 'call_type_description', 'priority', 'disposition', 'beat',
    'district', 'block_address', 'latitude', 'longitude', 'agency']) }},

{#- a record with coordinates and no beat, or a beat no boundary has, takes the beat its point is in #}
{{ coordinate_places('with_lookups', 'calls_for_service') }},

renamed as (
    select
        -- ids
        _source_profile || ':' || call_id as call_key,
        call_id,
        _source_profile as source_profile,

        -- strings
        lower(coalesce(call_source, lookup_call_source)) as call_source,
        -- who the record is for (a county 911 feed mixes police, fire and EMS); empty is police
        coalesce(lower(trim(coalesce(agency, lookup_agency))), 'police') as agency,
        upper(trim(initial_call_type)) as initial_call_type,
        upper(trim(call_type)) as call_type,
        coalesce(call_type_description, lookup_call_type_description) as call_type_description,
        coalesce(priority, lookup_priority) as priority,
        coalesce(disposition, lookup_disposition) as disposition,
        {{ placed_beat('coalesce(beat, lookup_beat)') }},
        coalesce(district, lookup_district) as district,
        coalesce(block_address, lookup_block_address) as block_address,
        unmatched_lookup_keys,

        -- numerics
        cast(coalesce(latitude, lookup_latitude) as {{ type_double() }}) as latitude,
        cast(coalesce(longitude, lookup_longitude) as {{ type_double() }}) as longitude,
        coalesce(units, cast(units_assigned as integer)) as units_assigned,
        coalesce(unit_rows, 1) as unit_rows,
        coalesce(unit_row_conflicts, 0) as unit_row_conflicts,
        coalesce(lookup_keys, 0) as lookup_keys,
        coalesce(lookup_keys_unmatched, 0) as lookup_keys_unmatched,

        -- booleans (NULL where the city has no officer-initiated flag)
        cast(is_officer_initiated as boolean) as officer_initiated_flag,

        -- timestamps: UTC, and wall-clock time in the city
        cast(coalesce(first_received_at, received_at) as timestamp) as received_at_utc,
        cast(coalesce(first_dispatched_at, dispatched_at) as timestamp) as dispatched_at_utc,
        cast(coalesce(first_enroute_at, enroute_at) as timestamp) as enroute_at_utc,
        cast(coalesce(first_arrived_at, arrived_at) as timestamp) as arrived_at_utc,
        cast(coalesce(last_cleared_at, cleared_at) as timestamp) as cleared_at_utc,
        {{ utc_to_local('cast(coalesce(first_received_at, received_at) as timestamp)', '_timezone') }}
            as received_at_local,

        -- lineage
        _batch_id as batch_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        admitted_at
    from with_places
)

select * from renamed
