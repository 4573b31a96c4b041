{#- Tract residents shared among beats by overlapping surface. Empty until tracts and beats landed. -#}
{%- set columns = {
    'city': 'varchar', 'tract_id': 'varchar', 'beat_id': 'varchar', 'tract_population': type_double(),
    'area_share': type_double(), 'population_allocated': type_double(), 'tract_batch_id': 'varchar',
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

        -- numerics
        tract_population,
        area_share,
        population_allocated,

        -- timestamps
        built_at
    from crosswalk
)

select * from renamed
