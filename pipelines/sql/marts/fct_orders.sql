-- table: Orders as known on the as-of date, with their lifecycle timestamps (a step after the as-of date is null).
-- grain: one row per order
-- incremental key: order_key
-- partition: month of order_date
-- column order_key: Warehouse key `<source>:<id>`
-- column customer_key: Customer who ordered (dim_customer)
-- column order_date: Business date of the order
-- column status: Status on the as-of date (the stored status, or the last lifecycle step reached when replaying an earlier date)
-- column currency: ISO 4217 currency
-- column subtotal_cents: Sum of line net amounts, minor units
-- column discount_cents: Discounts, minor units
-- column tax_cents: Tax, minor units
-- column total_cents: Order total including tax, minor units
-- column created_at: Entered (UTC)
-- column submitted_at: Submitted for approval (UTC)
-- column awaiting_prepayment_at: Began waiting for its prepayment (customer on prepayment terms), first time (UTC); null for other orders
-- column prepaid_at: Released by the payment that covers it, the release that stands (UTC); null while it waits and for other orders
-- column approved_at: Approved, by rule or by a credit controller, or released by its prepayment (UTC)
-- column shipped_at: First shipment left (UTC)
-- column delivered_at: Delivery confirmed (UTC)
-- column invoiced_at: Invoiced (UTC)
-- column paid_at: Fully paid (UTC)
-- column cancelled_at: Cancelled (UTC)
-- column source: `core` or the extract's source name
/* changed keys:
select 'core:' || id as order_key from delta_staging_core_orders
*/
with orders as (
  select *, cast(getvariable('as_of') as date) + interval 1 day as cutoff
  from staging.stg_orders
  where order_date <= getvariable('as_of')
),

final as (
  select
    order_key,
    customer_key,
    order_date,
    case
      when cast(updated_at as date) <= getvariable('as_of') then status
      when cancelled_at < cutoff then 'cancelled'
      when paid_at < cutoff then 'paid'
      when invoiced_at < cutoff then 'invoiced'
      when delivered_at < cutoff then 'delivered'
      when shipped_at < cutoff then 'shipped'
      when approved_at < cutoff then 'approved'
      when awaiting_prepayment_at < cutoff then 'awaiting_prepayment'
      when submitted_at < cutoff then 'submitted'
      else 'draft'
    end as status,
    currency,
    subtotal_cents,
    discount_cents,
    tax_cents,
    total_cents,
    created_at,
    case when submitted_at < cutoff then submitted_at end as submitted_at,
    case when awaiting_prepayment_at < cutoff then awaiting_prepayment_at end as awaiting_prepayment_at,
    case when prepaid_at < cutoff then prepaid_at end as prepaid_at,
    case when approved_at < cutoff then approved_at end as approved_at,
    case when shipped_at < cutoff then shipped_at end as shipped_at,
    case when delivered_at < cutoff then delivered_at end as delivered_at,
    case when invoiced_at < cutoff then invoiced_at end as invoiced_at,
    case when paid_at < cutoff then paid_at end as paid_at,
    case when cancelled_at < cutoff then cancelled_at end as cancelled_at,
    source
  from orders
)

select * from final
