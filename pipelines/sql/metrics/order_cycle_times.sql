-- table: How long each step of order to cash takes, by the month the order was placed: order → approval → (for a customer on prepayment terms, the wait for the prepayment) → shipment → delivery → invoice → payment, and the whole loop. Only orders that completed the step by the as-of date count.
-- grain: one row per source, order month and step
-- incremental key: source, month
-- partition: month of month
-- column source: `core` or the extract's source name
-- column month: First day of the month the orders were placed in
-- column step: order_to_approval (for an order on prepayment terms: to the credit decision that made it wait), prepayment_wait (from then to the payment's release; only orders on prepayment terms), approval_to_shipment, shipment_to_delivery, delivery_to_invoice, invoice_to_payment or order_to_cash
-- column step_order: 1 … 7 in the order above
-- column orders: Orders that completed the step
-- column median_days: Median duration in days (fractional, linear interpolation)
-- column p90_days: 90th percentile of the duration in days
-- column mean_days: Mean duration in days
/* changed keys:
select source, cast(date_trunc('month', order_date) as date) as month from delta_marts_fct_orders
*/
with orders as (
  select * from marts.fct_orders as o
  /*incremental: semi join incremental_keys as k on k.source = o.source and k.month = cast(date_trunc('month', o.order_date) as date) */
),

steps as (
  -- An order on prepayment terms is decided when it starts to wait; the wait is its own step, so
  -- order → approval stays the credit decision's time and the steps still add up to the loop.
  select source, order_date, 'order_to_approval' as step, 1 as step_order, created_at as started_at, coalesce(awaiting_prepayment_at, approved_at) as ended_at from orders
  union all select source, order_date, 'prepayment_wait', 2, awaiting_prepayment_at, prepaid_at from orders
  union all select source, order_date, 'approval_to_shipment', 3, approved_at, shipped_at from orders
  union all select source, order_date, 'shipment_to_delivery', 4, shipped_at, delivered_at from orders
  union all select source, order_date, 'delivery_to_invoice', 5, delivered_at, invoiced_at from orders
  union all select source, order_date, 'invoice_to_payment', 6, invoiced_at, paid_at from orders
  union all select source, order_date, 'order_to_cash', 7, created_at, paid_at from orders
),

durations as (
  select source, cast(date_trunc('month', order_date) as date) as month, step, step_order, epoch(ended_at - started_at) / 86400.0 as days
  from steps
  where started_at is not null and ended_at is not null
),

final as (
  select
    source,
    month,
    step,
    step_order,
    count(*) as orders,
    quantile_cont(days, 0.5) as median_days,
    quantile_cont(days, 0.9) as p90_days,
    avg(days) as mean_days
  from durations
  group by all
)

select * from final order by source, month, step_order
