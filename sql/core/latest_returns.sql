-- core.latest_returns: one row per observation the marts show (a total, or a breakdown by one
-- dimension): its newest vintage, with the codes and names the marts need. Where an edition
-- publishes only finer figures (a tidy file at the full grain), its totals by one dimension
-- are summed from them and marked is_derived; a figure an edition publishes is never replaced.
with fact as (
    select
        -- keys
        fact.bulletin_key,
        fact.period_key,
        source_table.table_code,
        organiser.organiser_code,
        country.country_code,
        category.category_code,
        channel.channel_code,
        -- measures
        fact.returns,
        fact.share_pct,
        -- lineage
        fact.footnote_marks,
        fact.source_line,
        (organiser.organiser_code != '_T')::int + (country.country_code != '_T')::int
        + (category.category_code != '_T')::int
        + (channel.channel_code != '_T')::int as dimensions_broken_down
    from core.fact_returns as fact
    inner join core.dim_source_table as source_table
        on source_table.source_table_key = fact.source_table_key
    inner join core.dim_organiser as organiser on organiser.organiser_key = fact.organiser_key
    inner join core.dim_country as country on country.country_key = fact.country_key
    inner join core.dim_category as category on category.category_key = fact.category_key
    inner join core.dim_channel as channel on channel.channel_key = fact.channel_key
),

published as (
    select fact.* exclude (dimensions_broken_down), false as is_derived
    from fact
    where fact.dimensions_broken_down <= 1
),

summed as (
    select
        fact.bulletin_key,
        fact.period_key,
        coalesce(fact.organiser_code, '_T') as organiser_code,
        coalesce(fact.country_code, '_T') as country_code,
        coalesce(fact.category_code, '_T') as category_code,
        coalesce(fact.channel_code, '_T') as channel_code,
        sum(fact.returns)::bigint as returns
    from fact
    where fact.dimensions_broken_down > 1 and fact.returns is not null
    group by grouping sets (
        (fact.bulletin_key, fact.period_key),
        (fact.bulletin_key, fact.period_key, fact.organiser_code),
        (fact.bulletin_key, fact.period_key, fact.country_code),
        (fact.bulletin_key, fact.period_key, fact.category_code),
        (fact.bulletin_key, fact.period_key, fact.channel_code)
    )
    -- a group of rows not broken down by its dimension is the total, summed once already
    having
        (grouping(fact.organiser_code) = 1 or fact.organiser_code != '_T')
        and (grouping(fact.country_code) = 1 or fact.country_code != '_T')
        and (grouping(fact.category_code) = 1 or fact.category_code != '_T')
        and (grouping(fact.channel_code) = 1 or fact.channel_code != '_T')
),

derived as (
    select
        summed.*,
        case
            when summed.country_code != '_T' then 'COUNTRY'
            when summed.category_code != '_T' then 'CATEGORY'
            when summed.channel_code != '_T' then 'CHANNEL'
            else 'MONTHLY'
        end as table_code,
        null::double as share_pct,
        '' as footnote_marks,
        null::integer as source_line,
        true as is_derived
    from summed
    anti join published using (
        bulletin_key, period_key, organiser_code, country_code, category_code, channel_code
    )
),

observations as (
    select * from published
    union all by name
    select * from derived
),

joined as (
    select
        -- keys
        observations.table_code,
        period.period_code,
        observations.organiser_code,
        observations.country_code,
        observations.category_code,
        observations.channel_code,
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
        observations.returns,
        observations.share_pct,
        observations.is_derived,
        -- lineage
        observations.footnote_marks,
        observations.bulletin_key,
        bulletin.file_name as bulletin,
        bulletin.vintage_rank,
        source_table.table_priority,
        observations.source_line
    from observations
    inner join core.dim_period as period on period.period_key = observations.period_key
    inner join core.dim_source_table as source_table
        on source_table.table_code = observations.table_code
    inner join core.dim_country as country on country.country_code = observations.country_code
    inner join core.dim_category as category
        on category.category_code = observations.category_code
    inner join core.dim_channel as channel on channel.channel_code = observations.channel_code
    inner join core.dim_bulletin as bulletin on bulletin.bulletin_key = observations.bulletin_key
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
    order by joined.vintage_rank, joined.is_derived
) = 1
