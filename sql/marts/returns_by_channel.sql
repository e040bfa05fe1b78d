-- marts.returns_by_channel: one row per period and channel through which people applied: the
-- winning share as published and the winning count where one is published
with channels as (
    select *
    from core.winning_figures as winners
    where
        winners.channel_code != '_T'
        and winners.organiser_code = '_T'
        and winners.country_code = '_T'
        and winners.category_code = '_T'
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
    channels.channel_name_fr,
    -- measures
    channels.share_pct,
    channels.returns,
    round(100.0 * channels.returns / period_totals.period_total, 1) as computed_share_pct,
    period_totals.period_total,
    channels.is_derived,
    -- lineage: of the count (else the share), and of the share
    channels.bulletin,
    channels.source_code,
    channels.published_on,
    channels.share_bulletin
from channels
left join core.period_totals as period_totals
    on period_totals.table_code = channels.table_code
    and period_totals.period_code = channels.period_code
    and period_totals.bulletin_key = channels.bulletin_key
order by channels.period_start, channels.period_end, channels.channel_code
