-- table: Every invoice open at every period end (month-ends and the as-of date): its balance then, how far past due, and its aging bucket. An invoice is open at M when issued on or before M and its balance after what happened on or before M is above zero.
-- grain: one row per period end and open invoice
-- incremental key: invoice_key
-- partition: month of invoice_date
-- column source: `core` or the extract's source name
-- column currency: ISO 4217 currency
-- column as_of: The period end M
-- column invoice_key: Invoice (marts.fct_invoices)
-- column customer_key: Customer (marts.dim_customer)
-- column invoice_date: Issue date
-- column due_date: Due date
-- column open_cents: Balance at M, minor units
-- column days_past_due: M − due date (zero or negative when not yet due)
-- column bucket: Aging bucket: current (≤ 0 days past due), 1-30, 31-60, 61-90, 91-120, 120+
/* changed keys:
select invoice_key from delta_marts_fct_invoices
union select invoice_key from delta_marts_fct_invoice_movements
*/
with invoices as (
  -- After its last movement an invoice's balance no longer changes, so it can be open at a
  -- period end only before that movement, or at any period end if it is still open now:
  -- each invoice is paired with those months only.
  select
    source, currency, invoice_key, customer_key, invoice_date, due_date, amount_cents, open_cents, last_movement_date,
    cast(date_trunc('month', invoice_date) as date) as first_month,
    cast(date_trunc('month', case when open_cents > 0 then cast(getvariable('as_of') as date) else last_movement_date - 1 end) as date) as last_month
  from marts.fct_invoices
  where not is_cancelled and (open_cents > 0 or last_movement_date > invoice_date)
    /*incremental: and invoice_key in (select invoice_key from incremental_keys) */
),

invoice_months as (
  select *, cast(unnest(generate_series(first_month, last_month, interval 1 month)) as date) as month_start
  from invoices
  where last_month >= first_month
),

candidates as (
  select i.source, i.currency, p.period_end, i.invoice_key, i.customer_key, i.invoice_date, i.due_date, i.amount_cents
  from invoice_months as i
  join metrics.ar_periods as p
    on p.source = i.source and p.currency = i.currency and p.month_start = i.month_start
  where i.invoice_date <= p.period_end
    and (i.open_cents > 0 or p.period_end < i.last_movement_date)
),

moved as (
  select c.invoice_key, c.period_end, cast(sum(m.amount_cents) as bigint) as moved_cents
  from candidates as c
  join marts.fct_invoice_movements as m on m.invoice_key = c.invoice_key and m.movement_date <= c.period_end
  group by c.invoice_key, c.period_end
),

balances as (
  select c.*, c.amount_cents + coalesce(m.moved_cents, 0) as open_cents
  from candidates as c
  left join moved as m on m.invoice_key = c.invoice_key and m.period_end = c.period_end
),

final as (
  select
    source,
    currency,
    period_end as as_of,
    invoice_key,
    customer_key,
    invoice_date,
    due_date,
    open_cents,
    cast(period_end - due_date as integer) as days_past_due,
    case
      when period_end - due_date <= 0 then 'current'
      when period_end - due_date <= 30 then '1-30'
      when period_end - due_date <= 60 then '31-60'
      when period_end - due_date <= 90 then '61-90'
      when period_end - due_date <= 120 then '91-120'
      else '120+'
    end as bucket
  from balances
  where open_cents > 0
)

select * from final
