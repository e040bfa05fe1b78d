-- core.period_totals: one row per breakdown table, period and edition whose figures win in
-- that breakdown: the total that edition's table states (the category table's own total stays
-- its total), else the period's winning total; the marts show it as period_total
with overall as (
    select
        winners.period_code,
        winners.returns,
        winners.bulletin_key
    from core.winning_figures as winners
    where
        winners.organiser_code = '_T'
        and winners.country_code = '_T'
        and winners.category_code = '_T'
        and winners.channel_code = '_T'
        and winners.returns is not null
),

-- totals a breakdown table of an edition states itself
stated as (
    select
        fact.bulletin_key,
        source_table.table_code,
        period.period_code,
        fact.returns
    from core.fact_returns as fact
    inner join core.dim_source_table as source_table
        on source_table.source_table_key = fact.source_table_key
    inner join core.dim_period as period on period.period_key = fact.period_key
    where
        source_table.table_code in ('COUNTRY', 'CATEGORY', 'CHANNEL')
        and fact.organiser_key = surrogate_key('organiser', '_T')
        and fact.country_key = surrogate_key('country', '_T')
        and fact.category_key = surrogate_key('category', '_T')
        and fact.channel_key = surrogate_key('channel', '_T')
        and fact.returns is not null
),

breakdowns as (
    select distinct
        winners.table_code,
        winners.period_code,
        winners.bulletin_key
    from core.winning_figures as winners
    where winners.table_code in ('COUNTRY', 'CATEGORY', 'CHANNEL')
)

select
    -- keys
    breakdowns.table_code,
    breakdowns.period_code,
    breakdowns.bulletin_key,
    -- measures
    coalesce(stated.returns, overall.returns) as period_total,
    stated.returns is not null as is_stated_by_table,
    -- lineage: the edition of the total
    coalesce(stated.bulletin_key, overall.bulletin_key) as total_bulletin_key
from breakdowns
left join stated
    on stated.bulletin_key = breakdowns.bulletin_key
    and stated.table_code = breakdowns.table_code
    and stated.period_code = breakdowns.period_code
left join overall on overall.period_code = breakdowns.period_code
