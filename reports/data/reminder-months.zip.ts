import { MONTHS, monthsBack } from '../components/months.js';
import { emitArrowZip, type Kind } from './arrow-files.ts';
import { mainScope, withSnapshot, type Row } from './snapshot.ts';

/**
 * The reminded invoices behind the Collections page's dunning-effectiveness chart: every
 * reminder (an invoice reaching a dunning level) with the balance reminded, the day the
 * invoice's balance reached zero (on it or after), and whether it was settled within 7, 14 and 30
 * days — `yes`, `no`, or `not yet` when the window had not ended by the as-of date — judged
 * as metrics.dunning_effectiveness judges them (the balance at the window's end, payments,
 * credit notes and write-offs all counted). One Arrow file per month the reminders were sent
 * of the last MONTHS months (`back-N.arrows`, by components/months.js), opened on demand.
 */
const WINDOWS = [7, 14, 30] as const;
const columns: Record<string, Kind> = {
  policy: 'words', level: 'int', level_name: 'words', notice_date: 'words', invoice: 'text', customer_id: 'words', customer: 'words', currency: 'words',
  days_past_due: 'int', balance: 'number', settled_on: 'words', ...Object.fromEntries(WINDOWS.map((w) => [`settled_${w}d`, 'words' as Kind])),
};
const files = await withSnapshot(async (q, has) => {
  const scope = await mainScope(q);
  const out = new Map<string, { rows: Row[]; columns: Record<string, Kind> }>();
  for (let n = 0; n < MONTHS; n++) out.set(`back-${n}.arrows`, { rows: [], columns });
  if (!(await has('marts.fct_reminders'))) return out;
  // The as-of date the effectiveness was measured at (the data date when it was not published).
  const asOf = (await has('metrics.dunning_effectiveness'))
    ? String((await q(`select coalesce(max(as_of), date '${scope.asOf}')::varchar as d from metrics.dunning_effectiveness`))[0]?.d ?? scope.asOf)
    : scope.asOf;
  const rows = await q(`
    with r as (
      select * from marts.fct_reminders where source = '${scope.source}' and notice_date <= date '${asOf}'
        and notice_date >= date_trunc('month', date '${asOf}') - interval ${MONTHS} month
    ),
    mv as (select invoice_key, movement_date, sum(amount_cents) as cents from marts.fct_invoice_movements where invoice_key in (select invoice_key from r) group by all),
    running as (select invoice_key, movement_date, sum(cents) over (partition by invoice_key order by movement_date) as moved from mv)
    select date_trunc('month', r.notice_date)::date::varchar as month, r.policy, r.level, r.level_name, r.notice_date::varchar as notice_date,
           coalesce(i.invoice_number, r.invoice_key) as invoice, r.customer_key as customer_id, coalesce(c.customer_name, r.customer_key) as customer, r.currency,
           r.days_past_due, minor_to_units(r.balance_cents, r.currency) as balance,
           (select min(x.movement_date) from running x where x.invoice_key = r.invoice_key and x.movement_date >= r.notice_date and i.amount_cents + x.moved <= 0 and x.movement_date <= date '${asOf}')::varchar as settled_on,
           ${WINDOWS.map((w) => `case when r.notice_date + ${w} > date '${asOf}' then 'not yet'
                 when i.amount_cents + coalesce((select sum(m.cents) from mv m where m.invoice_key = r.invoice_key and m.movement_date <= r.notice_date + ${w}), 0) <= 0 then 'yes' else 'no' end as settled_${w}d`).join(',\n           ')}
    from r join marts.fct_invoices i on i.invoice_key = r.invoice_key
    left join marts.dim_customer c on c.customer_key = r.customer_key
    order by r.notice_date, r.level, r.balance_cents desc, r.reminder_key`);
  for (const row of rows) {
    const n = monthsBack(String(row.month), scope.asOf);
    if (n != null) out.get(`back-${n}.arrows`)!.rows.push(row);
  }
  return out;
});
await emitArrowZip(files);
