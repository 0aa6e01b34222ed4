-- table: Shipments from the core feed.
-- grain: one row per shipment_key
with shipped_lines as (
  select shipment_id, count(*) as line_count, cast(sum(quantity) as bigint) as quantity
  from staging.core_shipment_lines
  group by shipment_id
),

final as (
  select
    'core:' || s.id as shipment_key,
    'core:' || s.order_id as order_key,
    'core:' || o.customer_id as customer_key,
    s.status,
    s.carrier,
    s.tracking_number,
    cast(s.created_at as timestamp) as created_at,
    cast(s.shipped_at as timestamp) as shipped_at,
    cast(s.delivered_at as timestamp) as delivered_at,
    s.signed_by,
    coalesce(l.line_count, 0) as line_count,
    coalesce(l.quantity, 0) as quantity,
    'core' as source
  from staging.core_shipments as s
  left join staging.core_orders as o on o.id = s.order_id
  left join shipped_lines as l on l.shipment_id = s.id
)

select * from final
