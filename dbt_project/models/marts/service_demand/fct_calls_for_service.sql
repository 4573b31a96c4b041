{{
    config(
        materialized=large_fact_materialization(),
        unique_key='call_key',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns'
    )
}}

-- One row per call: classified, placed, timed and costed (see int_calls_classified).
select * from {{ ref('int_calls_classified') }}
{{ loaded_since_last_build('loaded_at') }}
