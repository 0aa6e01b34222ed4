-- table: Invoice balances written off up to the as-of date.
-- grain: one row per write-off
-- column write_off_key: Warehouse key `<source>:<id>`
-- column invoice_key: Invoice written off (fct_invoices)
-- column customer_key: Customer (dim_customer)
-- column write_off_date: Business date of the write-off
-- column amount_cents: Amount written off, minor units
-- column reason: Reason given
-- column source: `core`
select write_off_key, invoice_key, customer_key, write_off_date, amount_cents, reason, source
from staging.stg_write_offs
where write_off_date <= getvariable('as_of')
