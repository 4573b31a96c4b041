{{
    config(
        materialized=large_fact_materialization(),
        unique_key='incident_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

with {{ latest_versions(source('raw', 'incidents'), 'incident_id') }},

renamed as (
    select
        -- ids
        _source_profile || ':' || incident_id as incident_key,
        incident_id,
        _source_profile as source_profile,

        -- strings
        upper(trim(offence_code)) as offence_code,
        offence_description,
        lower(offence_category) as offence_category,
        beat,
        district,
        block_address,

        -- numerics
        cast(latitude as {{ type_double() }}) as latitude,
        cast(longitude as {{ type_double() }}) as longitude,

        -- booleans
        cast(is_violent as boolean) as is_violent_reported,
        cast(arrest_made as boolean) as arrest_made,

        -- timestamps
        cast(reported_at as timestamp) as reported_at_utc,
        cast(occurred_at as timestamp) as occurred_at_utc,
        {{ utc_to_local('cast(reported_at as timestamp)', '_timezone') }} as reported_at_local,

        -- lineage
        _batch_id as batch_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        admitted_at
    from source
)

select * from renamed
