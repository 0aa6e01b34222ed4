-- table: Orders of every source with their lifecycle timestamps; extract orders are built from their lines. A core order on prepayment terms also has the time it began waiting for its prepayment and the time the payment released it.
-- grain: one row per order_key
with prepayment as (
  -- From the order's moves: the first time it waited for a prepayment, and the last release from
  -- that wait (a reversed payment sends an order back to wait; the release that stands is the last).
  select
    order_id,
    min(cast("at" as timestamp)) filter (where to_status = 'awaiting_prepayment') as awaiting_prepayment_at,
    max(cast("at" as timestamp)) filter (where from_status = 'awaiting_prepayment' and to_status = 'approved') as prepaid_at
  from staging.core_order_status_history
  group by order_id
  having count(*) filter (where to_status = 'awaiting_prepayment') > 0
),

core as (
  select
    'core:' || id as order_key,
    'core:' || customer_id as customer_key,
    cast(order_date as date) as order_date,
    status,
    currency,
    subtotal_minor as subtotal_cents,
    discount_minor as discount_cents,
    tax_minor as tax_cents,
    total_minor as total_cents,
    cast(created_at as timestamp) as created_at,
    cast(submitted_at as timestamp) as submitted_at,
    p.awaiting_prepayment_at,
    p.prepaid_at,
    cast(approved_at as timestamp) as approved_at,
    cast(shipped_at as timestamp) as shipped_at,
    cast(delivered_at as timestamp) as delivered_at,
    cast(invoiced_at as timestamp) as invoiced_at,
    cast(paid_at as timestamp) as paid_at,
    cast(cancelled_at as timestamp) as cancelled_at,
    cast(updated_at as timestamp) as updated_at,
    'core' as source
  from staging.core_orders as o
  left join prepayment as p on p.order_id = o.id
),

extract as (
  select
    order_key,
    any_value(customer_key) as customer_key,
    min(order_date) as order_date,
    'extract' as status,
    any_value(currency) as currency,
    cast(sum(net_cents) as bigint) as subtotal_cents,
    cast(0 as bigint) as discount_cents,
    cast(0 as bigint) as tax_cents,
    cast(sum(total_cents) as bigint) as total_cents,
    cast(min(order_date) as timestamp) as created_at,
    cast(null as timestamp) as submitted_at,
    cast(null as timestamp) as awaiting_prepayment_at,
    cast(null as timestamp) as prepaid_at,
    cast(null as timestamp) as approved_at,
    cast(null as timestamp) as shipped_at,
    cast(null as timestamp) as delivered_at,
    cast(null as timestamp) as invoiced_at,
    cast(null as timestamp) as paid_at,
    cast(null as timestamp) as cancelled_at,
    cast(min(order_date) as timestamp) as updated_at,
    any_value(source) as source
  from staging.stg_order_lines
  where source <> 'core'
  group by order_key
),

final as (
  select * from core
  union all by name
  select * from extract
)

select * from final
