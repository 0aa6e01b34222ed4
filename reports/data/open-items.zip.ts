import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { BUCKETS, bucketFile } from '../components/buckets.js';
import { emitMembers } from './arrow-files.ts';
import { mainScope, withSnapshot, type Row } from './snapshot.ts';

/**
 * Every open invoice on the data date, one Arrow stream per aging bucket
 * (`bucket-N.arrows`, N by components/buckets.js), most overdue first, loaded only when a page
 * asks for the rows behind a chart or the whole worklist (Aging's buckets, Collections' "all
 * open invoices", which reads the six files oldest bucket first).
 */
const members = await withSnapshot(async (q, has) => {
  const scope = await mainScope(q);
  const scores = await has('forecast.customer_scores');
  const rows = await q(`
    select coalesce(i.invoice_number, o.invoice_key) as invoice, o.customer_key as customer_id, coalesce(c.customer_name, o.customer_key) as customer,
           o.due_date::varchar as due_date, o.days_past_due, o.bucket, minor_to_units(o.open_cents, o.currency) as open_amount,
           coalesce(${scores ? 's.risk_class, ' : ''}c.risk_class, '') as risk_class
    from metrics.ar_open_items o
    left join marts.fct_invoices i using (invoice_key)
    left join marts.dim_customer c on c.customer_key = o.customer_key
    ${scores ? `left join (select customer_key, risk_class from forecast.customer_scores where as_of = (select max(as_of) from forecast.customer_scores)) s on s.customer_key = o.customer_key` : ''}
    where o.source = '${scope.source}' and o.currency = '${scope.currency}' and o.as_of = '${scope.asOf}'
    order by o.days_past_due desc, o.open_cents desc`);
  const parts: Row[][] = BUCKETS.map(() => []);
  for (const r of rows) {
    const n = bucketFile(String(r.bucket));
    if (n < 0) throw new Error(`open item ${String(r.invoice)} is in bucket "${String(r.bucket)}", which is not one of ${BUCKETS.join(', ')} (reports/components/buckets.js)`);
    parts[n]!.push(r);
  }
  return new Map(parts.map((part, n) => [`bucket-${n}.arrows`, tableToIPC(openItemsTable(part), 'stream')]));
});
await emitMembers(members);

function openItemsTable(rows: Row[]) {
  const str = (k: string) => rows.map((r) => String(r[k] ?? ''));
  return tableFromArrays({
    invoice: str('invoice'),
    customer_id: str('customer_id'),
    customer: str('customer'),
    due_date: str('due_date'),
    days_past_due: Int32Array.from(rows.map((r) => Number(r.days_past_due))),
    bucket: str('bucket'),
    open_amount: Float64Array.from(rows.map((r) => Number(r.open_amount))),
    risk_class: str('risk_class'),
  });
}
