with source as (
    select * from {{ source('raw', 'source_profiles') }}
),

renamed as (
    select
        -- ids
        source_profile || ':' || canonical_field as source_profile_field_key,
        source_profile,
        source as canonical_source,
        canonical_field,

        -- strings
        field_kind,
        provided_by,
        source_columns,
        note,
        timezone,
        profile_file,
        city,
        city_name,

        -- booleans
        cast(is_required as boolean) as is_required,
        cast(is_provided as boolean) as is_provided,

        -- timestamps
        described_at
    from source
)

select * from renamed
