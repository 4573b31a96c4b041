{#- The areas of each boundary profile's latest file that passed the boundaries gate: a city whose
    new file fails keeps its last good polygons. Empty until a boundary file has landed. -#}
{%- set area_columns = {
    'city': 'varchar', 'area_level': 'varchar', 'area_id': 'varchar', 'area_name': 'varchar',
    'geometry_wkt': 'varchar', 'geometry_geojson': 'varchar', 'area_sq_km': type_double(),
    'centroid_latitude': type_double(), 'centroid_longitude': type_double(), '_batch_id': 'varchar',
    '_source_file': 'varchar', '_row_number': 'bigint', '_loaded_at': 'timestamp', '_source_profile': 'varchar'
} -%}
{%- set batch_columns = {
    'batch_id': 'varchar', 'source_profile': 'varchar', 'loaded_at': 'timestamp', 'gate_passed': 'boolean'
} -%}

with ranked_batches as (
    select
        boundary_batches.batch_id,
        row_number() over (
            partition by boundary_batches.source_profile order by boundary_batches.loaded_at desc
        ) as recency
    from {{ optional_source('raw', 'area_boundary_batches', batch_columns) }} as boundary_batches
    where boundary_batches.gate_passed
),

admitted as (
    select batch_id from ranked_batches
    where recency = 1
),

renamed as (
    select
        -- ids
        areas.city,
        areas.area_level,
        areas.area_id,
        areas._source_profile as source_profile,

        -- strings
        areas.area_name,
        areas.geometry_wkt,
        areas.geometry_geojson,

        -- numerics
        areas.area_sq_km,
        areas.centroid_latitude,
        areas.centroid_longitude,

        -- lineage
        areas._batch_id as batch_id,
        areas._source_file as source_file,
        areas._row_number as feature_number,
        areas._loaded_at as loaded_at
    from {{ optional_source('raw', 'area_boundaries', area_columns) }} as areas
    inner join admitted on areas._batch_id = admitted.batch_id
)

select * from renamed
