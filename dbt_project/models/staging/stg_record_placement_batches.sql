{#- How the records of each landed file were placed by their coordinates, against a boundary file. -#}
{%- set columns = {
    'batch_id': 'varchar', 'source': 'varchar', 'source_profile': 'varchar', 'source_file': 'varchar',
    'city': 'varchar', 'boundary_batch_id': 'varchar', 'records': 'bigint', 'agrees': 'bigint',
    'elsewhere': 'bigint', 'outside': 'bigint', 'placed': 'bigint', 're_placed': 'bigint',
    'unplaceable': 'bigint', 'unverified': 'bigint', 'placed_at': 'timestamp'
} -%}

with placements as (
    select * from {{ optional_source('raw', 'record_placement_batches', columns) }}
),

renamed as (
    select
        -- ids
        placements.city,
        placements.source,
        placements.source_profile,
        placements.batch_id,
        placements.boundary_batch_id,

        -- strings
        placements.source_file,

        -- numerics
        placements.records,
        placements.agrees,
        placements.elsewhere,
        placements.outside,
        placements.placed,
        placements.re_placed,
        placements.unplaceable,
        placements.unverified,

        -- timestamps
        placements.placed_at
    from placements
)

select * from renamed
