-- core.period_totals: one row per breakdown table and period: the total that table states,
-- else the period's overall total (newest vintage), which the marts show as period_total
with totals as (
    select *
    from core.latest_returns as latest
    where
        latest.organiser_code = '_T'
        and latest.country_code = '_T'
        and latest.category_code = '_T'
        and latest.channel_code = '_T'
        and latest.returns is not null
),

overall as (
    select totals.period_code, totals.returns
    from totals
    qualify row_number() over (
        partition by totals.period_code order by totals.table_priority
    ) = 1
),

breakdowns as (
    select distinct latest.table_code, latest.period_code
    from core.latest_returns as latest
)

select
    -- keys
    breakdowns.table_code,
    breakdowns.period_code,
    -- measures
    coalesce(stated.returns, overall.returns) as period_total,
    stated.returns is not null as is_stated_by_table
from breakdowns
left join totals as stated
    on stated.table_code = breakdowns.table_code
    and stated.period_code = breakdowns.period_code
left join overall on overall.period_code = breakdowns.period_code
