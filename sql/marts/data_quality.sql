-- marts.data_quality: one row per expectation result of the last run
with results as (
    select * from quality_results
)

select
    -- keys
    results.run_id,
    results.checked_at::timestamptz as checked_at,
    results.suite,
    results.expectation,
    -- outcome
    results.severity,
    results.success,
    results.observed,
    -- where
    results.bulletin,
    results.details
from results
