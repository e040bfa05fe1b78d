-- checks.core: one row per invariant of the star schema and subject, with what was observed:
-- a count of offending rows (0 when the invariant holds), or of editions loaded
with fact as (
    select * from core.fact_returns
),

missing_keys as (
    select 'fact_key_in_dimension' as check_name, 'bulletin' as subject, count(*) as observed
    from fact anti join core.dim_bulletin using (bulletin_key)
    union all
    select 'fact_key_in_dimension', 'source_table', count(*)
    from fact anti join core.dim_source_table using (source_table_key)
    union all
    select 'fact_key_in_dimension', 'period', count(*)
    from fact anti join core.dim_period using (period_key)
    union all
    select 'fact_key_in_dimension', 'organiser', count(*)
    from fact anti join core.dim_organiser using (organiser_key)
    union all
    select 'fact_key_in_dimension', 'country', count(*)
    from fact anti join core.dim_country using (country_key)
    union all
    select 'fact_key_in_dimension', 'category', count(*)
    from fact anti join core.dim_category using (category_key)
    union all
    select 'fact_key_in_dimension', 'channel', count(*)
    from fact anti join core.dim_channel using (channel_key)
),

duplicate_keys as (
    select 'dimension_key_unique' as check_name, 'dim_period' as subject,
        count(*) - count(distinct period_key) as observed
    from core.dim_period
    union all
    select 'dimension_key_unique', 'dim_country', count(*) - count(distinct country_key)
    from core.dim_country
    union all
    select 'dimension_key_unique', 'dim_bulletin', count(*) - count(distinct bulletin_key)
    from core.dim_bulletin
    union all
    -- rows beyond the first of each key: a grouping, which DuckDB spills to disk past its
    -- memory bound (a count of distinct keys holds them all in memory)
    select 'fact_observation_unique', 'fact_returns', coalesce(sum(repeated.rows - 1), 0)
    from (
        select count(*) as rows
        from fact
        group by
            fact.bulletin_key, fact.source_table_key, fact.period_key, fact.organiser_key,
            fact.country_key, fact.category_key, fact.channel_key
        having count(*) > 1
    ) as repeated
),

measures as (
    select 'fact_returns_not_negative' as check_name, 'returns' as subject,
        count(*) filter (where fact.returns < 0) as observed
    from fact
    union all
    select 'fact_has_a_measure', 'returns or share_pct',
        count(*) filter (where fact.returns is null and fact.share_pct is null)
    from fact
),

editions as (
    select 'editions_loaded' as check_name, 'dim_bulletin' as subject, count(*) as observed
    from core.dim_bulletin
)

select * from missing_keys
union all select * from duplicate_keys
union all select * from measures
union all select * from editions
