{#- CTEs ending in `with_lookups`, every record of `records` with its lookup columns (a CTE with
    _source_profile, _batch_id, _row_number and the row as received, _original) whose profile has
    lookups (raw.lookup_fields), the key it names in each lookup (its column `record_column`) and
    the value each lookup gives for `fields` (lookup_<field>), with lookup_keys (keys the record
    names) and lookup_keys_unmatched (of those, keys the lookup's joined file lacks, listed in
    unmatched_lookup_keys as "lookup: key"). A record that names no key is not unmatched. A
    profile without lookups joins nothing: the CTEs are empty and cost nothing. Built through
    `record_lookup_keys` and `lookup_filled`. -#}
{% macro lookup_fills(records, fields) -%}
{{ joined_lookup_values() }},

record_lookup_keys as (
    select
        records._source_profile,
        records._batch_id,
        records._row_number,
        lookups.lookup_name,
        nullif(trim({{ json_text('records._original', 'lookups.record_column') }}), '') as lookup_key
    from {{ records }} as records
    inner join (
        select distinct source_profile, lookup_name, record_column
        from {{ optional_source('raw', 'lookup_fields', {
            'source_profile': 'varchar', 'lookup_name': 'varchar', 'record_column': 'varchar'}) }}
    ) as lookups
        on records._source_profile = lookups.source_profile
),

record_lookup_values as (
    select
        record_lookup_keys.*,
        lookup_values.canonical_field,
        lookup_values.value,
        lookup_values.lookup_key as matched_key
    from record_lookup_keys
    left join joined_lookup_values as lookup_values
        on
            record_lookup_keys._source_profile = lookup_values.source_profile
            and record_lookup_keys.lookup_name = lookup_values.lookup_name
            and record_lookup_keys.lookup_key = lookup_values.lookup_key
),

lookup_filled as (
    select
        _batch_id as lookup_batch_id,
        _row_number as lookup_row_number,
        {%- for field in fields %}
        max(case when canonical_field = '{{ field }}' then value end) as lookup_{{ field }},
        {%- endfor %}
        count(distinct case when lookup_key is not null then lookup_name end) as lookup_keys,
        count(distinct case when lookup_key is not null and matched_key is null then lookup_name end)
            as lookup_keys_unmatched,
        string_agg(
            distinct case when lookup_key is not null and matched_key is null then lookup_name || ': ' || lookup_key end,
            '; '
        ) as unmatched_lookup_keys
    from record_lookup_values
    group by _batch_id, _row_number
),

with_lookups as (
    select
        {{ records }}.*,
        lookup_filled.*
    from {{ records }}
    left join lookup_filled
        on
            {{ records }}._batch_id = lookup_filled.lookup_batch_id
            and {{ records }}._row_number = lookup_filled.lookup_row_number
)
{%- endmacro %}
