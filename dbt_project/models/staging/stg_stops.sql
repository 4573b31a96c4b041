{{
    config(
        materialized=large_fact_materialization(),
        unique_key='stop_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

with {{ latest_versions(source('raw', 'stops'), 'stop_id') }},

{#- a record with coordinates and no beat, or a beat no boundary has, takes the beat its point is in #}
{{ coordinate_places('source', 'stops') }},

renamed as (
    select
        -- ids
        _source_profile || ':' || stop_id as stop_key,
        stop_id,
        _source_profile as source_profile,

        -- strings
        {{ placed_beat('beat') }},
        district,
        lower(stop_type) as stop_type,
        reason,
        lower(subject_race) as subject_race,
        lower(subject_sex) as subject_sex,
        lower(outcome) as outcome,

        -- numerics
        cast(latitude as {{ type_double() }}) as latitude,
        cast(longitude as {{ type_double() }}) as longitude,
        cast(subject_age as integer) as subject_age,

        -- booleans
        cast(search_conducted as boolean) as search_conducted,
        cast(contraband_found as boolean) as contraband_found,

        -- timestamps
        cast(stopped_at as timestamp) as stopped_at_utc,
        {{ utc_to_local('cast(stopped_at as timestamp)', '_timezone') }} as stopped_at_local,

        -- lineage
        _batch_id as batch_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        admitted_at
    from with_places
)

select * from renamed
