-- core.dim_period: one row per period (month, year or range) that a loaded edition publishes,
-- and the year of every month
with published as (
    select distinct
        staged.period_code,
        staged.period_grain,
        staged.period_start,
        staged.period_end
    from staging.observations as staged
),

-- the year of every month, which a year's count summed from its months needs
source as (
    select * from published
    union
    select distinct
        year(published.period_start)::varchar as period_code,
        'year' as period_grain,
        make_date(year(published.period_start), 1, 1) as period_start,
        make_date(year(published.period_start), 12, 31) as period_end
    from published
    where published.period_grain = 'month'
),

named as (
    select
        source.*,
        start_month.name_nl as start_name_nl,
        start_month.name_fr as start_name_fr,
        start_month.name_en as start_name_en,
        end_month.name_nl as end_name_nl,
        end_month.name_fr as end_name_fr,
        end_month.name_en as end_name_en
    from source
    inner join reference_month as start_month
        on start_month.month_number = month(source.period_start)
    inner join reference_month as end_month
        on end_month.month_number = month(source.period_end)
)

select
    -- keys
    surrogate_key('period', named.period_code) as period_key,
    named.period_code,
    named.period_grain as grain,
    -- dates
    named.period_start,
    named.period_end,
    year(named.period_start) as year,
    if(named.period_grain = 'month', month(named.period_start), null) as month_number,
    date_diff('month', named.period_start, named.period_end + 1) as months_covered,
    -- names
    case named.period_grain
        when 'year' then named.period_code
        when 'month' then named.start_name_nl || ' ' || year(named.period_start)
        else named.start_name_nl || ' ' || year(named.period_start)
            || ' – ' || named.end_name_nl || ' ' || year(named.period_end)
    end as name_nl,
    case named.period_grain
        when 'year' then named.period_code
        when 'month' then named.start_name_fr || ' ' || year(named.period_start)
        else named.start_name_fr || ' ' || year(named.period_start)
            || ' – ' || named.end_name_fr || ' ' || year(named.period_end)
    end as name_fr,
    case named.period_grain
        when 'year' then named.period_code
        when 'month' then named.start_name_en || ' ' || year(named.period_start)
        else named.start_name_en || ' ' || year(named.period_start)
            || ' – ' || named.end_name_en || ' ' || year(named.period_end)
    end as name_en
from named
