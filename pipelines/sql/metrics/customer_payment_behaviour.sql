-- table: How each customer pays, from the invoices it has settled with a payment up to the as-of date, and what it owes on that date.
-- grain: one row per customer with at least one invoice
-- incremental key: customer_id
-- column source: `core` or the extract's source name
-- column currency: ISO 4217 currency
-- column customer_id: Customer key (marts.dim_customer.customer_key)
-- column invoices_issued: Invoices issued up to the as-of date (not cancelled)
-- column invoices_paid: Invoices settled with a payment
-- column mean_days_to_pay: Mean days to pay
-- column weighted_days_to_pay: Days to pay weighted by invoice amount
-- column median_days_to_pay: Median days to pay (linear interpolation)
-- column p90_days_to_pay: 90th percentile of days to pay (linear interpolation)
-- column stddev_days_to_pay: Sample standard deviation of days to pay (its reliability)
-- column share_paid_late: Share of paid invoices with days_late > 0 (0–1)
-- column mean_days_late: Mean days late over paid invoices
-- column trend_days_per_quarter: Least-squares slope of days to pay against invoice date, in days per quarter (91.3125 days); positive means paying slower; null with fewer than 2 paid invoices
-- column last_paid_date: Latest settled date
-- column open_invoices: Invoices open on the as-of date
-- column open_cents: Open balance on the as-of date, minor units
-- column overdue_cents: Part of open_cents past its due date, minor units
/* changed keys:
select customer_key as customer_id from delta_marts_fct_invoices
*/
with invoices as (
  select * from marts.fct_invoices
  where not is_cancelled /*incremental: and customer_key in (select customer_id from incremental_keys) */
),

-- One pass over a customer's invoices; the payment figures count only those settled with a
-- payment (days_to_pay set), which the aggregates without a filter get by ignoring nulls.
per_customer as (
  select
    source, currency, customer_key,
    count(*) as invoices_issued,
    count(*) filter (where days_to_pay is not null) as invoices_paid,
    avg(days_to_pay) as mean_days_to_pay,
    sum(days_to_pay * amount_cents) / nullif(sum(amount_cents) filter (where days_to_pay is not null), 0) as weighted_days_to_pay,
    quantile_cont(days_to_pay, [0.5, 0.9]) as quantiles,
    stddev_samp(days_to_pay) as stddev_days_to_pay,
    avg(case when days_late > 0 then 1.0 else 0.0 end) filter (where days_to_pay is not null) as share_paid_late,
    avg(days_late) filter (where days_to_pay is not null) as mean_days_late,
    regr_slope(days_to_pay, epoch(invoice_date) / 86400.0) * 91.3125 as trend_days_per_quarter,
    max(settled_date) filter (where days_to_pay is not null) as last_paid_date,
    count(*) filter (where open_cents > 0) as open_invoices,
    cast(coalesce(sum(open_cents) filter (where open_cents > 0), 0) as bigint) as open_cents,
    cast(coalesce(sum(open_cents) filter (where open_cents > 0 and due_date < getvariable('as_of')), 0) as bigint) as overdue_cents
  from invoices
  group by all
),

final as (
  select
    source,
    currency,
    customer_key as customer_id,
    invoices_issued,
    invoices_paid,
    mean_days_to_pay,
    weighted_days_to_pay,
    quantiles[1] as median_days_to_pay,
    quantiles[2] as p90_days_to_pay,
    stddev_days_to_pay,
    share_paid_late,
    mean_days_late,
    trend_days_per_quarter,
    last_paid_date,
    open_invoices,
    open_cents,
    overdue_cents
  from per_customer
)

select * from final order by source, currency, customer_id
