{#- CTEs ending in `joined_lookup_values`: of each profile's lookup, the latest file that passed its
    gate (orchestration/landing/lookups.py; a broken new file keeps the last good one), one value per
    key and canonical field (a key on several rows of that file: the last row; the gate has checked
    that they agree). Read by stg_lookup_values and by the join in lookup_fills, which does not
    depend on the model (a staging model built alone still joins). -#}
{% macro joined_lookup_values() -%}
lookup_batches_landed as (
    select * from {{ optional_source('raw', 'lookup_batches', {
        'batch_id': 'varchar', 'source_profile': 'varchar', 'lookup_name': 'varchar',
        'loaded_at': 'timestamp', 'gate_passed': 'boolean'}) }}
),

lookup_values_landed as (
    select * from {{ optional_source('raw', 'lookup_values', {
        'source_profile': 'varchar', 'lookup_name': 'varchar', 'lookup_key': 'varchar',
        'canonical_field': 'varchar', 'value': 'varchar', '_batch_id': 'varchar',
        '_source_file': 'varchar', '_row_number': 'bigint'}) }}
),

joined_lookup_files as (
    select batch_id from (
        select
            batch_id,
            row_number() over (
                partition by source_profile, lookup_name order by loaded_at desc, batch_id desc
            ) as file_rank
        from lookup_batches_landed
        where gate_passed
    ) as ranked
    where file_rank = 1
),

ranked_lookup_values as (
    select
        lookup_values_landed.*,
        row_number() over (
            partition by
                lookup_values_landed.source_profile,
                lookup_values_landed.lookup_name,
                lookup_values_landed.lookup_key,
                lookup_values_landed.canonical_field
            order by lookup_values_landed._row_number desc
        ) as value_rank
    from lookup_values_landed
    inner join joined_lookup_files on lookup_values_landed._batch_id = joined_lookup_files.batch_id
),

joined_lookup_values as (
    select
        source_profile,
        lookup_name,
        lookup_key,
        canonical_field,
        value,
        _batch_id,
        _source_file,
        _row_number
    from ranked_lookup_values
    where value_rank = 1
)
{%- endmacro %}
