-- table: Write-offs from the core feed.
-- grain: one row per write_off_key
select
  'core:' || w.id as write_off_key,
  'core:' || w.invoice_id as invoice_key,
  'core:' || i.customer_id as customer_key,
  cast(w.write_off_date as date) as write_off_date,
  w.amount_minor as amount_cents,
  w.reason,
  'core' as source
from staging.core_write_offs as w
left join staging.core_invoices as i on i.id = w.invoice_id
