{{
    config(
        materialized=large_fact_materialization(),
        unique_key='incident_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

with {{ latest_versions(source('raw', 'incidents'), 'incident_id') }},

{#- a lookup file fills these where the record's own value is empty (orchestration/landing/profiles.py LOOKUP_FIELDS) #}
{{ lookup_fills('source', ['offence_description', 'offence_category', 'beat', 'district', 'block_address',
    'latitude', 'longitude']) }},

{#- a record with coordinates and no beat, or a beat no boundary has, takes the beat its point is in #}
{{ coordinate_places('with_lookups', 'incidents') }},

renamed as (
    select
        -- ids
        _source_profile || ':' || incident_id as incident_key,
        incident_id,
        _source_profile as source_profile,

        -- strings
        upper(trim(offence_code)) as offence_code,
        coalesce(offence_description, lookup_offence_description) as offence_description,
        lower(coalesce(offence_category, lookup_offence_category)) as offence_category,
        {{ placed_beat('coalesce(beat, lookup_beat)') }},
        coalesce(district, lookup_district) as district,
        coalesce(block_address, lookup_block_address) as block_address,
        unmatched_lookup_keys,

        -- numerics
        cast(coalesce(latitude, lookup_latitude) as {{ type_double() }}) as latitude,
        cast(coalesce(longitude, lookup_longitude) as {{ type_double() }}) as longitude,
        coalesce(lookup_keys, 0) as lookup_keys,
        coalesce(lookup_keys_unmatched, 0) as lookup_keys_unmatched,

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
    from with_places
)

select * from renamed
