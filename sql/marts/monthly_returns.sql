-- marts.monthly_returns: one row per month with a published figure (newest vintage of each)
with months as (
    select *
    from core.latest_returns as latest
    where
        latest.table_code = 'MONTHLY'
        and latest.period_grain = 'month'
        and latest.country_code = '_T'
        and latest.category_code = '_T'
        and latest.channel_code = '_T'
        and latest.returns is not null
)

select
    -- dates
    months.period_start as month,
    any_value(months.year) as year,
    any_value(months.month_number) as month_number,
    -- measures
    max(months.returns) filter (where months.organiser_code = '_T') as returns,
    max(months.returns) filter (where months.organiser_code = 'FEDASIL') as returns_fedasil,
    max(months.returns) filter (where months.organiser_code = 'DVZ') as returns_dvz,
    -- lineage: the edition of the total, else of the first organiser's figure
    coalesce(
        max(months.bulletin) filter (where months.organiser_code = '_T'), min(months.bulletin)
    ) as bulletin,
    string_agg(distinct nullif(months.footnote_marks, ''), '') as footnote_marks
from months
group by months.period_start
order by month
