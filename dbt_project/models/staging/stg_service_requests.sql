{{
    config(
        materialized=large_fact_materialization(),
        unique_key='request_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

with {{ latest_versions(source('raw', 'service_requests'), 'request_id') }},

{#- a record with coordinates and no beat, or a beat no boundary has, takes the beat its point is in #}
{{ coordinate_places('source', 'service_requests') }},

renamed as (
    select
        -- ids
        _source_profile || ':' || request_id as request_key,
        request_id,
        _source_profile as source_profile,

        -- strings
        lower(channel) as channel,
        service_type,
        lower(status) as status,
        {{ placed_beat('beat') }},
        district,

        -- numerics
        cast(latitude as {{ type_double() }}) as latitude,
        cast(longitude as {{ type_double() }}) as longitude,

        -- timestamps
        cast(created_at as timestamp) as created_at_utc,
        cast(closed_at as timestamp) as closed_at_utc,
        {{ utc_to_local('cast(created_at as timestamp)', '_timezone') }} as created_at_local,

        -- lineage
        _batch_id as batch_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        admitted_at
    from with_places
)

select * from renamed
