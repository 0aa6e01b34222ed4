-- table: Disputes from the core feed: a customer contesting an invoice or one of its lines, and how it ended (src/collections).
-- grain: one row per dispute_key
select
  'core:' || id as dispute_key,
  'core:' || invoice_id as invoice_key,
  'core:' || customer_id as customer_key,
  currency,
  amount_minor as amount_cents,
  reason,
  invoice_line_id is not null as is_line,
  cast(opened_on as date) as opened_on,
  status,
  cast(resolved_on as date) as resolved_on,
  case when credit_note_id is not null then 'core:' || credit_note_id end as credit_note_key,
  'core' as source
from staging.core_disputes
