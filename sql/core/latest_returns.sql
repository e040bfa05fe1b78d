-- core.latest_returns: one row per observation (table, period, organiser, country, category,
-- channel): its newest vintage, with the codes and names the marts need
with fact as (
    select * from core.fact_returns
),

joined as (
    select
        -- keys
        source_table.table_code,
        period.period_code,
        organiser.organiser_code,
        country.country_code,
        category.category_code,
        channel.channel_code,
        -- dates
        period.grain as period_grain,
        period.period_start,
        period.period_end,
        period.year,
        period.month_number,
        period.months_covered,
        -- names
        country.name_en as country_name_en,
        country.name_nl as country_name_nl,
        category.name_en as category_name_en,
        category.name_nl as category_name_nl,
        channel.name_en as channel_name_en,
        channel.name_nl as channel_name_nl,
        -- measures
        fact.returns,
        fact.share_pct,
        -- lineage
        fact.footnote_marks,
        fact.bulletin_key,
        bulletin.file_name as bulletin,
        bulletin.vintage_rank,
        source_table.table_priority,
        fact.source_line
    from fact
    inner join core.dim_source_table as source_table
        on source_table.source_table_key = fact.source_table_key
    inner join core.dim_period as period on period.period_key = fact.period_key
    inner join core.dim_organiser as organiser on organiser.organiser_key = fact.organiser_key
    inner join core.dim_country as country on country.country_key = fact.country_key
    inner join core.dim_category as category on category.category_key = fact.category_key
    inner join core.dim_channel as channel on channel.channel_key = fact.channel_key
    inner join core.dim_bulletin as bulletin on bulletin.bulletin_key = fact.bulletin_key
)

select joined.*
from joined
qualify row_number() over (
    partition by
        joined.table_code,
        joined.period_code,
        joined.organiser_code,
        joined.country_code,
        joined.category_code,
        joined.channel_code
    order by joined.vintage_rank
) = 1
