-- table: Shipments as known on the as-of date.
-- grain: one row per shipment
-- incremental key: shipment_key
-- partition: month of created_at
-- column shipment_key: Warehouse key `<source>:<id>`
-- column order_key: Order shipped (fct_orders)
-- column customer_key: Customer (dim_customer)
-- column status: Current status (picked, shipped, in_transit, delivered, failed)
-- column carrier: Carrier name
-- column tracking_number: Carrier tracking number
-- column created_at: Picked (UTC)
-- column shipped_at: Left the warehouse (UTC; null after the as-of date)
-- column delivered_at: Delivery confirmed (UTC; null after the as-of date)
-- column signed_by: Who signed the proof of delivery
-- column line_count: Number of shipment lines
-- column quantity: Units shipped
-- column days_in_transit: Days from shipped to delivered, fractional
-- column source: `core`
/* changed keys:
select 'core:' || id as shipment_key from delta_staging_core_shipments
union select 'core:' || shipment_id from delta_staging_core_shipment_lines
union
-- the customer comes from the order
select 'core:' || s.id from staging.core_shipments as s where s.order_id in (select id from delta_staging_core_orders)
*/
with cut as (
  select *, cast(getvariable('as_of') as date) + interval 1 day as cutoff
  from staging.stg_shipments
  where cast(created_at as date) <= getvariable('as_of')
),

final as (
  select
    shipment_key,
    order_key,
    customer_key,
    status,
    carrier,
    tracking_number,
    created_at,
    case when shipped_at < cutoff then shipped_at end as shipped_at,
    case when delivered_at < cutoff then delivered_at end as delivered_at,
    signed_by,
    line_count,
    quantity,
    case when delivered_at < cutoff then epoch(delivered_at - shipped_at) / 86400.0 end as days_in_transit,
    source
  from cut
)

select * from final
