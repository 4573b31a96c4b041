with source as (
    select * from {{ source('raw', 'quarantine') }}
),

renamed as (
    select
        -- ids
        batch_id,
        source_profile,
        source as canonical_source,

        -- strings
        source_file,
        error_type,
        field,
        reason,
        record,

        -- numerics
        row_number as source_row_number,

        -- timestamps
        loaded_at
    from source
)

select * from renamed
