import { MONTHS, monthsBack } from '../components/months.js';
import { emitArrowZip, type Kind } from './arrow-files.ts';
import { mainScope, withSnapshot, type Row } from './snapshot.ts';

/**
 * The invoices behind each month of the Sales page, by the rule of the monthly sales series
 * (src/warehouse/sales-series.ts): net of tax, an invoice's amount apportioned to its order's
 * lines. Per month of the last MONTHS months (components/months.js), two Arrow files:
 * `invoices-N.arrows` (one row per invoice with its customer's segment: the total and the
 * segments) and `lines-N.arrows` (one row per invoice line with its product and category).
 * Each row is rounded to its currency's minor unit, so a month's rows can differ from the
 * chart's total by a few minor units.
 */
const invoiceColumns: Record<string, Kind> = { invoice: 'text', customer_id: 'words', customer: 'words', segment: 'words', invoice_date: 'words', amount: 'number' };
// An invoice has a few lines: its number once in the dictionary, an index per line.
const lineColumns: Record<string, Kind> = { invoice: 'words', customer_id: 'words', customer: 'words', product_key: 'words', product: 'words', category: 'words', amount: 'number' };
const files = await withSnapshot(async (q) => {
  const scope = await mainScope(q);
  const cur = scope.currency.replaceAll("'", "''");
  const common = `
    with invoices as (
      select invoice_key, invoice_number, customer_key, order_key, currency, invoice_date, amount_cents
      from marts.fct_invoices
      where not coalesce(is_cancelled, false) and currency = '${cur}' and invoice_date <= date '${scope.asOf}' and invoice_date > date '${scope.asOf}' - interval ${MONTHS + 1} month
    ),
    order_totals as (
      select order_key, sum(total_cents) as order_total_cents, sum(net_cents) as order_net_cents from marts.fct_order_lines group by order_key
    )`;
  const invoices = await q(`${common}
    select date_trunc('month', i.invoice_date)::date::varchar as month, coalesce(i.invoice_number, i.invoice_key) as invoice, i.customer_key as customer_id,
           coalesce(c.customer_name, i.customer_key) as customer, coalesce(nullif(c.segment, ''), 'unknown') as segment, i.invoice_date::varchar as invoice_date,
           minor_to_units(round(case when o.order_total_cents > 0 then i.amount_cents * o.order_net_cents / o.order_total_cents else i.amount_cents end)::bigint, i.currency) as amount
    from invoices i left join order_totals o using (order_key) left join marts.dim_customer c on c.customer_key = i.customer_key
    order by i.invoice_date, invoice`);
  const lines = await q(`${common}
    select date_trunc('month', i.invoice_date)::date::varchar as month, coalesce(i.invoice_number, i.invoice_key) as invoice, i.customer_key as customer_id,
           coalesce(c.customer_name, i.customer_key) as customer, l.product_key, coalesce(p.sku || ' · ', '') || coalesce(p.product_name, l.product_key) as product,
           coalesce(nullif(p.category, ''), 'uncategorised') as category,
           minor_to_units(round(i.amount_cents * l.net_cents / o.order_total_cents)::bigint, i.currency) as amount
    from invoices i join order_totals o using (order_key) join marts.fct_order_lines l using (order_key)
    left join marts.dim_product p on p.product_key = l.product_key left join marts.dim_customer c on c.customer_key = i.customer_key
    where o.order_total_cents > 0
    order by i.invoice_date, invoice, l.line_no`);
  const out = new Map<string, { rows: Row[]; columns: Record<string, Kind> }>();
  for (let n = 0; n < MONTHS; n++) {
    out.set(`invoices-${n}.arrows`, { rows: [], columns: invoiceColumns });
    out.set(`lines-${n}.arrows`, { rows: [], columns: lineColumns });
  }
  for (const [kind, rows] of [['invoices', invoices], ['lines', lines]] as const) {
    for (const r of rows) {
      const n = monthsBack(String(r.month), scope.asOf);
      if (n != null) out.get(`${kind}-${n}.arrows`)!.rows.push(r);
    }
  }
  return out;
});
await emitArrowZip(files);
