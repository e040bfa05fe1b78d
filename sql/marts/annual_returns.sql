-- marts.annual_returns: one row per year: the full-year figure when any edition publishes one,
-- else the latest year-to-date figure (months_covered below 12)
with totals as (
    select *
    from core.latest_returns as latest
    where
        latest.country_code = '_T'
        and latest.category_code = '_T'
        and latest.channel_code = '_T'
        and latest.returns is not null
        and (
            latest.period_grain = 'year'
            or (
                latest.period_grain = 'range'
                and month(latest.period_start) = 1
                and year(latest.period_end) = latest.year
            )
        )
),

chosen_period as (
    select totals.year, totals.period_code, totals.months_covered
    from totals
    qualify row_number() over (
        partition by totals.year
        order by totals.months_covered desc, totals.vintage_rank, totals.table_priority
    ) = 1
),

by_organiser as (
    select totals.*
    from totals
    inner join chosen_period
        on chosen_period.year = totals.year
        and chosen_period.period_code = totals.period_code
    qualify row_number() over (
        partition by totals.year, totals.organiser_code
        order by totals.vintage_rank, totals.table_priority
    ) = 1
),

footnoted as (
    select
        by_organiser.*,
        (
            select string_agg(footnote.footnote_mark || ' ' || footnote.footnote_text, ' ')
            from core.dim_footnote as footnote
            where
                footnote.bulletin_key = by_organiser.bulletin_key
                and footnote.footnote_mark = by_organiser.footnote_marks
        ) as footnote
    from by_organiser
)

select
    -- keys
    footnoted.year,
    -- measures
    max(footnoted.returns) filter (where footnoted.organiser_code = '_T') as returns,
    max(footnoted.returns) filter (where footnoted.organiser_code = 'FEDASIL') as returns_fedasil,
    max(footnoted.returns) filter (where footnoted.organiser_code = 'DVZ') as returns_dvz,
    any_value(footnoted.months_covered) as months_covered,
    any_value(footnoted.months_covered) = 12 as is_complete,
    -- footnotes and lineage of the total
    max(nullif(footnoted.footnote_marks, '')) filter (
        where footnoted.organiser_code = '_T'
    ) as footnote_marks,
    max(footnoted.footnote) filter (where footnoted.organiser_code = '_T') as footnote,
    any_value(footnoted.period_code) as period_code,
    coalesce(
        max(footnoted.bulletin) filter (where footnoted.organiser_code = '_T'),
        min(footnoted.bulletin)
    ) as bulletin
from footnoted
group by footnoted.year
order by footnoted.year
