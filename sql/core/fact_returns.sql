-- core.fact_returns: one row per published observation of every loaded edition (its vintage)
with staged as (
    select * from staging.observations
)

select
    -- keys
    surrogate_key('bulletin', staged.sha256) as bulletin_key,
    surrogate_key('source_table', staged.table_code) as source_table_key,
    surrogate_key('period', staged.period_code) as period_key,
    surrogate_key('organiser', staged.organiser_code) as organiser_key,
    surrogate_key('country', staged.country_code) as country_key,
    surrogate_key('category', staged.category_code) as category_key,
    surrogate_key('channel', staged.channel_code) as channel_key,
    -- measures
    staged.returns,
    staged.share_pct,
    -- lineage
    staged.period_grain || ' by ' || source_table.breakdown as grain,
    staged.footnote_marks,
    staged.row_label as source_row_label,
    staged.line_number as source_line
from staged
inner join reference_source_table as source_table
    on source_table.table_code = staged.table_code
