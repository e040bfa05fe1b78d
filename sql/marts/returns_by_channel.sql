-- marts.returns_by_channel: one row per period and channel through which people applied
with channels as (
    select *
    from core.latest_returns as latest
    where
        latest.table_code = 'CHANNEL'
        and latest.organiser_code = '_T'
        and latest.country_code = '_T'
        and latest.category_code = '_T'
        and latest.channel_code != '_T'
)

select
    -- dates
    channels.period_start,
    channels.period_end,
    channels.period_code,
    -- keys and names
    channels.channel_code,
    channels.channel_name_en,
    channels.channel_name_nl,
    -- measures
    channels.share_pct,
    -- lineage
    channels.bulletin
from channels
order by channels.period_start, channels.period_end, channels.channel_code
