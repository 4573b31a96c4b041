with {{ latest_versions(source('raw', 'budget'), 'budget_line_id') }},

renamed as (
    select
        -- ids
        _source_profile || ':' || budget_line_id as budget_line_key,
        budget_line_id,
        _source_profile as source_profile,

        -- strings
        department,
        program,
        lower(service_area) as service_area,

        -- numerics
        cast(fiscal_year as integer) as fiscal_year,
        cast(budgeted as {{ type_double() }}) as budgeted,
        cast(actual as {{ type_double() }}) as actual,
        cast(fte as {{ type_double() }}) as fte,

        -- lineage
        _batch_id as batch_id,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at,
        admitted_at
    from source
)

select * from renamed
