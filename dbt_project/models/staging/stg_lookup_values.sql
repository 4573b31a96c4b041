{#
    The values staging joins to records from lookup files (orchestration/landing/lookups.py): of
    each profile's lookup, the latest file that passed its gate (a broken new file keeps the last
    good one), one value per key and field (a key on several rows of that file: the last row, and
    the gate has checked they agree).
#}
with {{ joined_lookup_values() }},

renamed as (
    select
        -- ids
        source_profile,
        lookup_name,
        lookup_key,
        canonical_field,

        -- strings
        value,

        -- lineage
        _batch_id as batch_id,
        _source_file as source_file,
        _row_number as source_row_number
    from joined_lookup_values
)

select * from renamed
