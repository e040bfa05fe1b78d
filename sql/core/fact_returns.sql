-- core.fact_returns: one row per published observation of every loaded edition (its vintage)
with staged as (
    select * from staging.observations
)

select
    -- keys: looked up in the dimensions; a code missing from its dimension leaves a NULL key,
    -- which the core suite refuses (nothing is dropped by an inner join)
    bulletin.bulletin_key,
    source_table.source_table_key,
    period.period_key,
    organiser.organiser_key,
    country.country_key,
    category.category_key,
    channel.channel_key,
    -- measures
    staged.returns,
    staged.share_pct,
    -- lineage
    staged.period_grain || ' by ' || source_table.breakdown as grain,
    staged.footnote_marks,
    staged.row_label as source_row_label,
    staged.page_number as source_page,
    staged.line_number as source_line
from staged
left join core.dim_bulletin as bulletin on bulletin.sha256 = staged.sha256
left join core.dim_source_table as source_table on source_table.table_code = staged.table_code
left join core.dim_period as period on period.period_code = staged.period_code
left join core.dim_organiser as organiser on organiser.organiser_code = staged.organiser_code
left join core.dim_country as country on country.country_code = staged.country_code
left join core.dim_category as category on category.category_code = staged.category_code
left join core.dim_channel as channel on channel.channel_code = staged.channel_code
