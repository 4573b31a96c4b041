with {{ latest_versions(source('raw', 'areas'), 'beat') }},

renamed as (
    select
        -- ids
        beat,
        district,
        _source_profile as source_profile,

        -- strings
        beat_name,
        district_name,

        -- numerics
        cast(population as integer) as population,
        cast(min_latitude as {{ type_double() }}) as min_latitude,
        cast(max_latitude as {{ type_double() }}) as max_latitude,
        cast(min_longitude as {{ type_double() }}) as min_longitude,
        cast(max_longitude as {{ type_double() }}) as max_longitude,

        -- lineage
        _batch_id as batch_id,
        _source_file as source_file,
        _loaded_at as loaded_at,
        admitted_at
    from source
)

select * from renamed
