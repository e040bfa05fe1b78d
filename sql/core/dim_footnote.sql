-- core.dim_footnote: one row per footnote mark of an edition, with its text
with source as (
    select * from raw.footnotes
)

select
    -- keys
    surrogate_key('bulletin', source.sha256) as bulletin_key,
    source.mark as footnote_mark,
    -- attributes
    source.text as footnote_text,
    source.line as source_line,
    source.page as source_page
from source
