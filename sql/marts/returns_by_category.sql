-- marts.returns_by_category: one row per period and category of migrant, the winning count and
-- the winning share of each; categories roll up to their parent (parent_category_code), so
-- sum returns over one category_level
with categories as (
    select *
    from core.winning_figures as winners
    where
        winners.category_code != '_T'
        and winners.organiser_code = '_T'
        and winners.country_code = '_T'
        and winners.channel_code = '_T'
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
    categories.category_name_fr,
    categories.parent_category_code,
    categories.category_level,
    -- measures
    categories.returns,
    categories.share_pct,
    round(100.0 * categories.returns / period_totals.period_total, 1) as computed_share_pct,
    period_totals.period_total,
    categories.is_derived,
    -- lineage: of the count (else the share), and of the share
    categories.bulletin,
    categories.source_code,
    categories.published_on,
    categories.share_bulletin
from categories
left join core.period_totals as period_totals
    on period_totals.table_code = categories.table_code
    and period_totals.period_code = categories.period_code
    and period_totals.bulletin_key = categories.bulletin_key
order by categories.period_start, categories.period_end, categories.category_code
