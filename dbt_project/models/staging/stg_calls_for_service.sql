{{
    config(
        materialized=large_fact_materialization(),
        unique_key='call_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

-- the latest landing of an id wins: a corrected record replaces the earlier one
with {{ latest_versions(source('raw', 'calls_for_service'), 'call_id') }},

renamed as (
    select
        -- ids
        _source_profile || ':' || call_id as call_key,
        call_id,
        _source_profile as source_profile,

        -- strings
        lower(call_source) as call_source,
        upper(trim(initial_call_type)) as initial_call_type,
        upper(trim(call_type)) as call_type,
        call_type_description,
        priority,
        disposition,
        beat,
        district,
        block_address,

        -- numerics
        cast(latitude as {{ type_double() }}) as latitude,
        cast(longitude as {{ type_double() }}) as longitude,
        cast(units_assigned as integer) as units_assigned,

        -- booleans (NULL where the city has no officer-initiated flag)
        cast(is_officer_initiated as boolean) as officer_initiated_flag,

        -- timestamps: UTC, and wall-clock time in the city
        cast(received_at as timestamp) as received_at_utc,
        cast(dispatched_at as timestamp) as dispatched_at_utc,
        cast(enroute_at as timestamp) as enroute_at_utc,
        cast(arrived_at as timestamp) as arrived_at_utc,
        cast(cleared_at as timestamp) as cleared_at_utc,
        {{ utc_to_local('cast(received_at as timestamp)', '_timezone') }} as received_at_local,

        -- lineage
        _batch_id as batch_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        admitted_at
    from source
)

select * from renamed
