-- table: Every invoice open at every period end (month-ends and the as-of date): its balance then, how far past due, and its aging bucket. An invoice is open at M when issued on or before M and its balance after what happened on or before M is above zero.
-- grain: one row per period end and open invoice
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
with candidates as (
  -- After its last movement an invoice's balance no longer changes, so only periods before
  -- that movement, or any period when it is still open now, can find it open.
  select p.source, p.currency, p.period_end, i.invoice_key, i.customer_key, i.invoice_date, i.due_date, i.amount_cents
  from marts.fct_invoices as i
  join metrics.ar_periods as p
    on p.source = i.source and p.currency = i.currency and i.invoice_date <= p.period_end
  where not i.is_cancelled
    and (i.open_cents > 0 or p.period_end < i.last_movement_date)
),

balances as (
  select
    c.source, c.currency, c.period_end, c.invoice_key, c.customer_key, c.invoice_date, c.due_date,
    c.amount_cents + coalesce(sum(m.amount_cents), 0) as open_cents
  from candidates as c
  left join marts.fct_invoice_movements as m on m.invoice_key = c.invoice_key and m.movement_date <= c.period_end
  group by c.source, c.currency, c.period_end, c.invoice_key, c.customer_key, c.invoice_date, c.due_date, c.amount_cents
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
