import { MONTHS, monthsBack } from '../components/months.js';
import { emitArrowZip, type Kind } from './arrow-files.ts';
import { mainScope, withSnapshot, type Row } from './snapshot.ts';

/**
 * The invoices behind each month's DSO and CEI: every invoice open at the month-end (its
 * balance then, due date, days past due and bucket), one Arrow file per closed month-end of
 * the last MONTHS months (`back-N.arrows`, N months before the data date's month, by
 * components/months.js), opened by the Overview when a month is picked.
 */
const columns: Record<string, Kind> = {
  invoice: 'text', customer_id: 'words', customer: 'words', invoice_date: 'words', due_date: 'words', days_past_due: 'int', bucket: 'words', open_amount: 'number',
};
const files = await withSnapshot(async (q) => {
  const scope = await mainScope(q);
  const rows = await q(`
    select o.as_of::varchar as month_end, coalesce(i.invoice_number, o.invoice_key) as invoice, o.customer_key as customer_id, coalesce(c.customer_name, o.customer_key) as customer,
           o.invoice_date::varchar as invoice_date, o.due_date::varchar as due_date, o.days_past_due, o.bucket, minor_to_units(o.open_cents, o.currency) as open_amount
    from metrics.ar_open_items o
    join metrics.ar_kpis_monthly k on k.source = o.source and k.currency = o.currency and k.month_end = o.as_of and k.is_month_end
    left join marts.fct_invoices i using (invoice_key)
    left join marts.dim_customer c on c.customer_key = o.customer_key
    where o.source = '${scope.source}' and o.currency = '${scope.currency}' and o.as_of > date '${scope.asOf}' - interval ${MONTHS + 1} month
    order by o.as_of, o.days_past_due desc, o.open_cents desc`);
  const out = new Map<string, { rows: Row[]; columns: Record<string, Kind> }>();
  for (let n = 0; n < MONTHS; n++) out.set(`back-${n}.arrows`, { rows: [], columns });
  for (const r of rows) {
    const n = monthsBack(String(r.month_end), scope.asOf);
    if (n != null) out.get(`back-${n}.arrows`)!.rows.push(r);
  }
  return out;
});
await emitArrowZip(files);
