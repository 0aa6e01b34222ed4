import { MONTHS } from '../components/months.js';
import type { Kind } from './arrow-files.ts';
import { emitMonthFiles } from './month-files.ts';

/**
 * The shipments behind the Fulfilment page's on-time delivery chart: every delivered shipment
 * of a shipping month with its days in transit and whether it arrived within ON_TIME_DAYS
 * (as data/fulfilment.json.ts counts them), late ones first. One Arrow file per shipping
 * month of the last MONTHS months (`back-N.arrows`, by components/months.js), opened when a
 * month is picked.
 */
const ON_TIME_DAYS = 3;
const columns: Record<string, Kind> = {
  shipment: 'text', order: 'text', customer_id: 'words', customer: 'words', carrier: 'words', shipped: 'words', delivered: 'words', days_in_transit: 'number', delivery: 'words',
};
await emitMonthFiles(columns, (scope) => `
    select date_trunc('month', s.shipped_at)::date::varchar as month, regexp_replace(s.shipment_key, '^[^:]*:', '') as shipment,
           regexp_replace(s.order_key, '^[^:]*:', '') as "order", s.customer_key as customer_id, coalesce(c.customer_name, s.customer_key) as customer, s.carrier,
           s.shipped_at::date::varchar as shipped, s.delivered_at::date::varchar as delivered, s.days_in_transit,
           case when s.days_in_transit <= ${ON_TIME_DAYS} then 'on time' else 'late' end as delivery
    from marts.fct_shipments s left join marts.dim_customer c on c.customer_key = s.customer_key
    where s.shipped_at is not null and s.delivered_at is not null
      and s.shipped_at >= date_trunc('month', date '${scope.asOf}') - interval ${MONTHS} month
    order by (s.days_in_transit <= ${ON_TIME_DAYS}), s.days_in_transit desc, s.shipped_at, s.shipment_key`);
