-- marts.revisions: one row per edition that gives a figure published with more than one value
-- (period x organiser x country x category x channel x measure): the value, its edition, source
-- and publication date, the winning value, and why it won. `kind` is `revision` where one
-- source revised its own figure, `disagreement` where sources differ (or nothing separates
-- two editions: the choice by sha256 is stable, and still a disagreement).
with published as (
    select
        figures.*,
        bulletin.file_name as bulletin,
        bulletin.sha256,
        bulletin.source_code,
        bulletin.source_rank,
        bulletin.published_on,
        bulletin.coverage_months,
        bulletin.precedence_rank
    from core.edition_figures as figures
    inner join core.dim_bulletin as bulletin on bulletin.bulletin_key = figures.bulletin_key
    where not figures.is_derived
),

measured as (
    select published.* exclude (returns, share_pct), 'returns' as measure,
        published.returns::double as value
    from published
    where published.returns is not null
    union all
    select published.* exclude (returns, share_pct), 'share_pct' as measure,
        published.share_pct as value
    from published
    where published.share_pct is not null
),

ranked as (
    select
        measured.*,
        row_number() over figure as place,
        count(distinct measured.value) over figure_all as distinct_values,
        first_value(measured.value) over figure as winning_value,
        first_value(measured.bulletin) over figure as winning_bulletin,
        first_value({
            'source_code': measured.source_code,
            'source_rank': measured.source_rank,
            'published_on': measured.published_on,
            'coverage_months': measured.coverage_months
        }) over figure as winner,
        lead({
            'source_code': measured.source_code,
            'source_rank': measured.source_rank,
            'published_on': measured.published_on,
            'coverage_months': measured.coverage_months
        }) over figure as runner_up
    from measured
    window
        figure as (
            partition by
                measured.period_key, measured.organiser_code, measured.country_code,
                measured.category_code, measured.channel_code, measured.measure
            order by measured.precedence_rank
        ),
        figure_all as (
            partition by
                measured.period_key, measured.organiser_code, measured.country_code,
                measured.category_code, measured.channel_code, measured.measure
        )
),

disputed as (
    select
        ranked.*,
        -- the edition the winner is compared with: the runner-up for the winner itself
        if(
            ranked.place = 1,
            ranked.runner_up,
            {
                'source_code': ranked.source_code,
                'source_rank': ranked.source_rank,
                'published_on': ranked.published_on,
                'coverage_months': ranked.coverage_months
            }
        ) as other
    from ranked
    where ranked.distinct_values > 1
),

decided as (
    select
        disputed.*,
        case
            when disputed.winner.source_rank != disputed.other.source_rank
                then 'source ranking'
            when disputed.winner.published_on != disputed.other.published_on
                then 'publication date'
            when disputed.winner.coverage_months != disputed.other.coverage_months
                then 'coverage'
            else 'tie'
        end as decided_by
    from disputed
),

kinds as (
    select
        decided.*,
        -- one source revising its own figure; anything else is a disagreement
        if(
            count(distinct decided.source_code) over (
                partition by
                    decided.period_key, decided.organiser_code, decided.country_code,
                    decided.category_code, decided.channel_code, decided.measure
            ) = 1
            and decided.source_code != 'UNKNOWN'
            and not bool_or(decided.decided_by = 'tie') over (
                partition by
                    decided.period_key, decided.organiser_code, decided.country_code,
                    decided.category_code, decided.channel_code, decided.measure
            ),
            'revision',
            'disagreement'
        ) as kind
    from decided
)

select
    -- keys: the figure
    period.period_code,
    period.period_start,
    period.period_end,
    kinds.organiser_code,
    kinds.country_code,
    kinds.category_code,
    kinds.channel_code,
    kinds.measure,
    -- measures
    kinds.value,
    kinds.winning_value,
    kinds.value - kinds.winning_value as difference,
    -- the choice
    kinds.place = 1 as is_winner,
    kinds.kind,
    kinds.decided_by,
    case kinds.decided_by
        when 'source ranking' then kinds.winner.source_code || ' ranks before '
            || kinds.other.source_code || ' (data/reference/source.csv)'
        when 'publication date' then 'published ' || kinds.winner.published_on || ', after '
            || kinds.other.published_on
        when 'coverage' then 'covers ' || kinds.winner.coverage_months || ' months, against '
            || kinds.other.coverage_months
        else 'nothing separates them: the edition is chosen by its sha256'
    end as reason,
    kinds.winning_bulletin,
    -- lineage: the edition of this value
    kinds.bulletin,
    kinds.source_code,
    kinds.published_on,
    kinds.source_table_code,
    kinds.source_line,
    kinds.source_page,
    kinds.sha256
from kinds
inner join core.dim_period as period on period.period_key = kinds.period_key
order by
    period.period_start, period.period_end, kinds.organiser_code, kinds.country_code,
    kinds.category_code, kinds.channel_code, kinds.measure, kinds.place
