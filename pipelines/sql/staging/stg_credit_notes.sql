-- table: Credit notes from the core feed.
-- grain: one row per credit_note_key
select
  'core:' || id as credit_note_key,
  number as credit_note_number,
  'core:' || invoice_id as invoice_key,
  'core:' || customer_id as customer_key,
  currency,
  cast(credit_date as date) as credit_date,
  amount_minor as amount_cents,
  kind,
  reason,
  'core' as source
from staging.core_credit_notes
