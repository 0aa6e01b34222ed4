-- table: Invoice balances written off up to the as-of date.
-- grain: one row per write-off
-- incremental key: write_off_key
-- partition: month of write_off_date
-- column write_off_key: Warehouse key `<source>:<id>`
-- column invoice_key: Invoice written off (fct_invoices)
-- column customer_key: Customer (dim_customer)
-- column write_off_date: Business date of the write-off
-- column amount_cents: Amount written off, minor units
-- column reason: Reason given
-- column source: `core`
/* changed keys:
select 'core:' || id as write_off_key from delta_staging_core_write_offs
union
-- the customer comes from the invoice
select 'core:' || w.id from staging.core_write_offs as w where w.invoice_id in (select id from delta_staging_core_invoices)
*/
select write_off_key, invoice_key, customer_key, write_off_date, amount_cents, reason, source
from staging.stg_write_offs
where write_off_date <= getvariable('as_of')
