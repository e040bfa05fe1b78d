-- marts.returns_by_category: one row per period and category of migrant
with categories as (
    select *
    from core.latest_returns as latest
    where
        latest.table_code = 'CATEGORY'
        and latest.category_code != '_T'
        and latest.organiser_code = '_T'
        and latest.country_code = '_T'
        and latest.channel_code = '_T'
)

select
    -- dates
    categories.period_start,
    categories.period_end,
    categories.period_code,
    -- keys and names
    categories.category_code,
    categories.category_name_en,
    categories.category_name_nl,
    -- measures
    categories.returns,
    categories.share_pct,
    round(100.0 * categories.returns / period_totals.period_total, 1) as computed_share_pct,
    period_totals.period_total,
    -- lineage
    categories.bulletin
from categories
left join core.period_totals as period_totals
    on period_totals.table_code = categories.table_code
    and period_totals.period_code = categories.period_code
order by categories.period_start, categories.period_end, categories.category_code
