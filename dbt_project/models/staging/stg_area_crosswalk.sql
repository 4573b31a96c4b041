{#- Census residents (of tracts, or block groups where the city gave them) shared among beats by
    overlapping surface, with the share of each unit's margin of error. Empty until census units and
    beats landed. -#}
{%- set columns = {
    'city': 'varchar', 'tract_id': 'varchar', 'beat_id': 'varchar', 'census_level': 'varchar',
    'tract_population': type_double(), 'tract_margin': type_double(), 'area_share': type_double(),
    'population_allocated': type_double(), 'margin_allocated': type_double(), 'tract_batch_id': 'varchar',
    'beat_batch_id': 'varchar', 'built_at': 'timestamp'
} -%}

with crosswalk as (
    select * from {{ optional_source('raw', 'area_crosswalk', columns) }}
),

renamed as (
    select
        -- ids
        city,
        tract_id,
        beat_id,
        tract_batch_id,
        beat_batch_id,

        -- strings
        census_level,

        -- numerics
        tract_population,
        tract_margin,
        area_share,
        population_allocated,
        margin_allocated,

        -- timestamps
        built_at
    from crosswalk
)

select * from renamed
