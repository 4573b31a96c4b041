{#
    How well each profile's records join their lookup files (a locations table, a code table):
    one row per profile with lookups and kind of record. A record that names a key its lookup's
    joined file lacks keeps the fields the lookup would fill empty (no place, no description):
    the share of such records is gated (expectations/marts_to_serving/mart_lookup_coverage.yaml).
#}
with lookup_profiles as (
    select distinct source_profile
    from {{ optional_source('raw', 'lookup_fields', {'source_profile': 'varchar'}) }}
),

records as (
    select
        'calls_for_service' as record_source,
        source_profile,
        lookup_keys,
        lookup_keys_unmatched,
        unmatched_lookup_keys
    from {{ ref('stg_calls_for_service') }}
    where source_profile in (select lookup_profiles.source_profile from lookup_profiles)
    union all
    select
        'incidents' as record_source,
        source_profile,
        lookup_keys,
        lookup_keys_unmatched,
        unmatched_lookup_keys
    from {{ ref('stg_incidents') }}
    where source_profile in (select lookup_profiles.source_profile from lookup_profiles)
),

unmatched_keys as (
    select
        record_source,
        source_profile,
        unmatched_lookup_keys,
        count(*) as records,
        row_number() over (
            partition by record_source, source_profile order by count(*) desc, unmatched_lookup_keys
        ) as key_rank
    from records
    where unmatched_lookup_keys is not null
    group by record_source, source_profile, unmatched_lookup_keys
),

joined_files as (
    select
        source_profile,
        string_agg(distinct source_file, ', ') as joined_lookup_files
    from {{ ref('stg_lookup_values') }}
    group by source_profile
),

grouped as (
    select
        record_source,
        source_profile,
        count(*) as records,
        sum(case when lookup_keys > 0 then 1 else 0 end) as records_naming_a_key,
        sum(case when lookup_keys_unmatched > 0 then 1 else 0 end) as records_unmatched
    from records
    group by record_source, source_profile
),

final as (
    select
        grouped.record_source,
        grouped.source_profile,
        grouped.records,
        grouped.records_naming_a_key,
        grouped.records - grouped.records_naming_a_key as records_without_a_key,
        grouped.records_unmatched,
        grouped.records_naming_a_key - grouped.records_unmatched as records_matched,
        case
            when grouped.records_naming_a_key > 0
                then cast(grouped.records_unmatched as {{ type_double() }}) / grouped.records_naming_a_key
        end as unmatched_share,
        (
            select count(*) from unmatched_keys
            where
                unmatched_keys.record_source = grouped.record_source
                and unmatched_keys.source_profile = grouped.source_profile
        ) as distinct_unmatched_keys,
        (
            select
                {{ ordered_string_agg(
                    "unmatched_keys.unmatched_lookup_keys || ' (' || " ~ as_text('unmatched_keys.records') ~ " || ')'",
                    "', '",
                    'unmatched_keys.key_rank',
                ) }}
            from unmatched_keys
            where
                unmatched_keys.record_source = grouped.record_source
                and unmatched_keys.source_profile = grouped.source_profile
                and unmatched_keys.key_rank <= 5
        ) as most_frequent_unmatched_keys,
        joined_files.joined_lookup_files
    from grouped
    left join joined_files on grouped.source_profile = joined_files.source_profile
)

select * from final
