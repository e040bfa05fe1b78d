-- marts.returns_by_country: one row per period and destination (named countries and _O)
with countries as (
    select *
    from core.latest_returns as latest
    where
        latest.table_code = 'COUNTRY'
        and latest.country_code != '_T'
        and latest.organiser_code = '_T'
        and latest.category_code = '_T'
        and latest.channel_code = '_T'
)

select
    -- dates
    countries.period_start,
    countries.period_end,
    countries.period_code,
    -- keys and names
    countries.country_code,
    countries.country_name_en,
    countries.country_name_nl,
    -- measures
    countries.returns,
    round(100.0 * countries.returns / period_totals.period_total, 1) as share_pct,
    if(
        countries.country_code = '_O',
        null,
        rank() over (
            partition by countries.period_code, countries.country_code = '_O'
            order by countries.returns desc
        )
    ) as rank,
    period_totals.period_total,
    -- lineage
    countries.bulletin
from countries
left join core.period_totals as period_totals
    on period_totals.table_code = countries.table_code
    and period_totals.period_code = countries.period_code
order by
    countries.period_start, countries.period_end, countries.country_code = '_O', rank, countries.country_code
