-- table: Order lines of every source, typed. Extract lines carry their own order date and customer.
-- grain: one row per order_key and line_no
with core as (
  select
    'core:' || l.order_id as order_key,
    cast(l.line_no as integer) as line_no,
    'core:' || o.customer_id as customer_key,
    'core:' || l.product_id as product_key,
    cast(o.order_date as date) as order_date,
    o.currency,
    l.quantity,
    l.unit_price_minor as unit_price_cents,
    l.gross_minor as gross_cents,
    l.discount_minor as discount_cents,
    l.net_minor as net_cents,
    l.tax_minor as tax_cents,
    l.total_minor as total_cents,
    l.shipped_qty as shipped_quantity,
    l.invoiced_qty as invoiced_quantity,
    'core' as source
  from staging.core_order_lines as l
  join staging.core_orders as o on o.id = l.order_id
),

extract as (
  select
    source || ':' || order_id as order_key,
    cast(line_no as integer) as line_no,
    source || ':' || customer_id as customer_key,
    source || ':' || product_id as product_key,
    cast(order_date as date) as order_date,
    currency,
    cast(quantity as bigint) as quantity,
    units_to_minor(unit_price, currency) as unit_price_cents,
    cast(quantity as bigint) * units_to_minor(unit_price, currency) as gross_cents,
    cast(0 as bigint) as discount_cents,
    cast(quantity as bigint) * units_to_minor(unit_price, currency) as net_cents,
    cast(0 as bigint) as tax_cents,
    cast(quantity as bigint) * units_to_minor(unit_price, currency) as total_cents,
    cast(null as bigint) as shipped_quantity,
    cast(null as bigint) as invoiced_quantity,
    source
  from raw.extract_order_lines
  qualify row_number() over (partition by source, order_id, line_no order by row_no desc) = 1
),

final as (
  select * from core
  union all by name
  select * from extract
)

select * from final
