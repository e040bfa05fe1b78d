-- checks.bulletin_labels: one row per bulletin and dimension: how many of its labels resolve to
-- no code, and every one of them with its first line; the bulletin suite asserts there are none
with staged as (
    select * from staged_observations
),

labels as (
    select staged.file, 'organiser' as dimension, staged.unresolved_organiser as label,
        staged.line_number
    from staged
    where staged.unresolved_organiser is not null
    union all
    select staged.file, 'country', staged.unresolved_country, staged.line_number
    from staged
    where staged.unresolved_country is not null
    union all
    select staged.file, 'category', staged.unresolved_category, staged.line_number
    from staged
    where staged.unresolved_category is not null
    union all
    select staged.file, 'channel', staged.unresolved_channel, staged.line_number
    from staged
    where staged.unresolved_channel is not null
),

distinct_labels as (
    select labels.file, labels.dimension, labels.label, min(labels.line_number) as line
    from labels
    group by labels.file, labels.dimension, labels.label
),

files as (
    select distinct staged.file from staged
),

dimensions as (
    select unnest(['organiser', 'country', 'category', 'channel']) as dimension
)

select
    -- keys
    files.file,
    dimensions.dimension,
    dimensions.dimension as subject,
    -- what did not resolve
    count(distinct_labels.label) as unresolved_labels,
    min(distinct_labels.line) as line,
    'no ' || dimensions.dimension || ' code for '
    || string_agg(
        '''' || distinct_labels.label || ''' (line ' || distinct_labels.line || ')', ', '
        order by distinct_labels.line, distinct_labels.label
    ) as message
from files
cross join dimensions
left join distinct_labels
    on distinct_labels.file = files.file and distinct_labels.dimension = dimensions.dimension
group by files.file, dimensions.dimension
