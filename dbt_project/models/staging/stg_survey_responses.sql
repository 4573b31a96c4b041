with {{ latest_versions(source('raw', 'survey_responses'), 'response_id') }},

renamed as (
    select
        -- ids
        _source_profile || ':' || response_id as response_key,
        response_id,
        _source_profile as source_profile,

        -- strings
        wave,
        beat,

        -- numerics (Likert 1 = strongly disagree ... 5 = strongly agree)
        cast(feel_safe_day as integer) as feel_safe_day,
        cast(feel_safe_night as integer) as feel_safe_night,
        cast(trust_police as integer) as trust_police,
        cast(police_treat_fairly as integer) as police_treat_fairly,
        coalesce(cast(weight as {{ type_double() }}), 1.0) as weight,

        -- dates
        cast(responded_on as date) as responded_on,

        -- lineage
        _batch_id as batch_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        admitted_at
    from source
)

select * from renamed
