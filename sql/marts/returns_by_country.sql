-- marts.returns_by_country: one row per period and destination (named countries and _O), the
-- winning count of each; ranks within the one list that wins the period (rank_source)
with countries as (
    select *
    from core.winning_figures as winners
    where
        winners.country_code != '_T'
        and winners.organiser_code = '_T'
        and winners.category_code = '_T'
        and winners.channel_code = '_T'
),

-- the winning list of each period: of the edition that comes first by the precedence rule
-- among those that give counts by country (published before derived)
lists as (
    select
        period.period_code,
        arg_min(
            figures.bulletin_key, {'derived': figures.is_derived, 'rank': bulletin.precedence_rank}
        ) as list_bulletin_key
    from core.edition_figures as figures
    inner join core.dim_bulletin as bulletin on bulletin.bulletin_key = figures.bulletin_key
    inner join core.dim_period as period on period.period_key = figures.period_key
    where figures.table_code = 'COUNTRY' and figures.returns is not null
    group by period.period_code
),

ranked as (
    select
        countries.*,
        countries.bulletin_key = lists.list_bulletin_key and countries.country_code != '_O'
            as is_in_winning_list
    from countries
    left join lists on lists.period_code = countries.period_code
)

select
    -- dates
    ranked.period_start,
    ranked.period_end,
    ranked.period_code,
    -- keys and names
    ranked.country_code,
    ranked.country_name_en,
    ranked.country_name_nl,
    ranked.country_name_fr,
    -- measures
    ranked.returns,
    round(100.0 * ranked.returns / period_totals.period_total, 1) as share_pct,
    if(
        ranked.is_in_winning_list,
        rank() over (
            partition by ranked.period_code, ranked.is_in_winning_list
            order by ranked.returns desc
        ),
        null
    ) as rank,
    if(ranked.is_in_winning_list, ranked.bulletin, null) as rank_source,
    period_totals.period_total,
    ranked.is_derived,
    -- lineage
    ranked.bulletin,
    ranked.source_code,
    ranked.published_on
from ranked
left join core.period_totals as period_totals
    on period_totals.table_code = ranked.table_code
    and period_totals.period_code = ranked.period_code
    and period_totals.bulletin_key = ranked.bulletin_key
order by
    ranked.period_start, ranked.period_end, ranked.country_code = '_O', rank,
    ranked.country_code
