with calls as (
    select * from {{ ref('int_calls_classified') }}
),

grouped as (
    select
        source_profile,
        call_month,
        count(*) as calls,
        sum(case when is_classified then 0 else 1 end) as unclassified_calls,
        sum(case when is_in_taxonomy then 0 else 1 end) as calls_not_in_taxonomy,
        count(distinct case when is_in_taxonomy then null else call_type end) as call_types_not_in_taxonomy,
        sum(officer_hours) as officer_hours,
        sum(case when is_classified then 0 else officer_hours end) as unclassified_officer_hours
    from calls
    group by source_profile, call_month
)

select
    *,
    unclassified_calls * 1.0 / calls as unclassified_share,
    unclassified_officer_hours / nullif(officer_hours, 0) as unclassified_hours_share
from grouped
