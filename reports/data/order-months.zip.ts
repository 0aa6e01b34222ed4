import { MONTHS } from '../components/months.js';
import type { Kind } from './arrow-files.ts';
import { emitMonthFiles } from './month-files.ts';

/**
 * The orders behind each month of the Fulfilment page: every order placed in the month with
 * its status and the days each step took (empty while the order has not reached the step),
 * measured as metrics.order_cycle_times measures them. One Arrow file per order month of the
 * last MONTHS months (`back-N.arrows`, by components/months.js), opened when a month is picked.
 */
const STEPS = [
  ['order_to_approval', 'created_at', 'approved_at'],
  ['approval_to_shipment', 'approved_at', 'shipped_at'],
  ['shipment_to_delivery', 'shipped_at', 'delivered_at'],
  ['delivery_to_invoice', 'delivered_at', 'invoiced_at'],
  ['invoice_to_payment', 'invoiced_at', 'paid_at'],
  ['order_to_cash', 'created_at', 'paid_at'],
] as const;
const columns: Record<string, Kind> = {
  order: 'text', customer_id: 'words', customer: 'words', order_date: 'words', status: 'words', ...Object.fromEntries(STEPS.map(([s]) => [s, 'number' as Kind])),
};
await emitMonthFiles(columns, (scope) => `
    select date_trunc('month', o.order_date)::date::varchar as month, regexp_replace(o.order_key, '^[^:]*:', '') as "order", o.customer_key as customer_id,
           coalesce(c.customer_name, o.customer_key) as customer, o.order_date::varchar as order_date, o.status,
           ${STEPS.map(([s, a, b]) => `epoch(o.${b} - o.${a}) / 86400.0 as ${s}`).join(', ')}
    from marts.fct_orders o left join marts.dim_customer c on c.customer_key = o.customer_key
    where o.order_date <= date '${scope.asOf}' and o.order_date > date '${scope.asOf}' - interval ${MONTHS + 1} month
    order by o.order_date, o.order_key`);
