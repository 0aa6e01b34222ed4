-- table: Disputes opened up to the as-of date, each with its state as known on that date (a dispute ended later is still open here).
-- grain: one row per dispute
-- incremental key: dispute_key
-- partition: month of opened_on
-- column dispute_key: Warehouse key `<source>:<id>`
-- column invoice_key: Invoice disputed (fct_invoices)
-- column customer_key: Customer who disputes (dim_customer)
-- column currency: ISO 4217 currency of the amount
-- column amount_cents: Amount contested, minor units
-- column reason: Reason the customer gave
-- column is_line: The dispute is about one invoice line, not the whole invoice
-- column opened_on: Business date the dispute was opened
-- column status: open, credited (a credit note was issued), rejected or withdrawn, as of the as-of date
-- column is_open: The dispute is still open at the as-of date
-- column resolved_on: Date the dispute ended; null while open
-- column credit_note_key: Credit note issued to end the dispute (fct_credit_notes); null otherwise
-- column source: `core`
/* changed keys:
select 'core:' || id as dispute_key from delta_staging_core_disputes
*/
with d as (
  select *, resolved_on is not null and resolved_on <= getvariable('as_of') as resolved
  from staging.stg_disputes
  where opened_on <= getvariable('as_of')
)
select
  dispute_key,
  invoice_key,
  customer_key,
  currency,
  amount_cents,
  reason,
  is_line,
  opened_on,
  case when resolved then status else 'open' end as status,
  not resolved as is_open,
  case when resolved then resolved_on end as resolved_on,
  case when resolved then credit_note_key end as credit_note_key,
  source
from d
