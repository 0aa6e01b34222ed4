import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { emitMembers } from './arrow-files.ts';
import { mainScope, withSnapshot, type Row } from './snapshot.ts';
import { PARTS, partOf } from '../components/shard.js';

/**
 * The rows behind the customer page, in PARTS Arrow files (part-N.arrows, Arrow streams, split by
 * components/shard.js), so opening one customer loads one small file: its open items, its
 * settled invoices (the payment cycle), the reasons of its score, its figures, and its promises
 * to pay, disputes and reminders.
 * Columns: customer_id, kind (open | paid | reason | fact | promise | dispute | reminder), ref
 * (invoice, reason or the name of a figure), d1 (due, invoice, promised, opened or reminder
 * date), d2 (expected, settled or resolved date), amount (open, invoiced, overdue, promised,
 * contested or reminded amount), n (days past due, days to pay, points, the figure's value,
 * the amount paid towards a promise or the reminder's level), status (a promise's or dispute's
 * state, a reminder level's name), note (a dispute's reason).
 */
const members = await withSnapshot(async (q, has) => {
  const scope = await mainScope(q);
  const cur = `source = '${scope.source}' and currency = '${scope.currency}'`;
  const forecasts = await has('forecast.invoice_payment');
  const open = await q(`
    select o.customer_key as customer_id, 'open' as kind, coalesce(i.invoice_number, o.invoice_key) as ref, o.due_date::varchar as d1,
           ${forecasts ? 'f.predicted_date::varchar' : 'null'} as d2, minor_to_units(o.open_cents, '${scope.currency}') as amount, o.days_past_due as n
    from metrics.ar_open_items o left join marts.fct_invoices i using (invoice_key)
    ${forecasts ? 'left join (select * from forecast.invoice_payment where as_of = (select max(as_of) from forecast.invoice_payment)) f on f.invoice_key = o.invoice_key' : ''}
    where o.${cur.replaceAll(' and ', ' and o.')} and o.as_of = '${scope.asOf}'`);
  const paid = await q(`
    select customer_key as customer_id, 'paid' as kind, coalesce(invoice_number, invoice_key) as ref, invoice_date::varchar as d1, settled_date::varchar as d2,
           minor_to_units(amount_cents, '${scope.currency}') as amount, days_to_pay as n
    from marts.fct_invoices where days_to_pay is not null and currency = '${scope.currency}' and settled_date <= date '${scope.asOf}'`);
  const reasons: Row[] = [];
  if (await has('forecast.customer_scores')) {
    for (const s of await q(`select customer_key, reasons from forecast.customer_scores where as_of = (select max(as_of) from forecast.customer_scores)`)) {
      if (typeof s.reasons !== 'string') continue;
      for (const r of JSON.parse(s.reasons) as { text: string; points: number }[]) reasons.push({ customer_id: s.customer_key, kind: 'reason', ref: r.text, d1: null, d2: null, amount: null, n: r.points });
    }
  }
  // A customer's figures: score, payment behaviour and overdue balance, one row each.
  const facts: Row[] = [];
  const scoreOf = (await has('forecast.customer_scores'))
    ? `(select score from forecast.customer_scores s where s.customer_key = c.customer_key and s.as_of = (select max(as_of) from forecast.customer_scores))`
    : 'null';
  for (const f of await q(`
    select c.customer_key as customer_id, ${scoreOf} as score, b.invoices_paid, b.median_days_to_pay, b.share_paid_late,
           (select count(*) from metrics.ar_open_items o where o.customer_key = c.customer_key and o.${cur.replaceAll(' and ', ' and o.')} and o.as_of = '${scope.asOf}') as open_items,
           (select minor_to_units(sum(open_cents), '${scope.currency}') from metrics.ar_open_items o where o.customer_key = c.customer_key and o.${cur.replaceAll(' and ', ' and o.')} and o.as_of = '${scope.asOf}' and o.days_past_due > 0) as overdue_amount
    from marts.dim_customer c left join metrics.customer_payment_behaviour b on b.customer_id = c.customer_key and b.${cur.replaceAll(' and ', ' and b.')}`)) {
    for (const k of ['score', 'invoices_paid', 'median_days_to_pay', 'share_paid_late', 'open_items', 'overdue_amount']) {
      if (f[k] != null) facts.push({ customer_id: f.customer_id, kind: 'fact', ref: k, d1: null, d2: null, amount: null, n: f[k] });
    }
  }
  // Promises, disputes and reminders in the page's currency, as known on the as-of date (the marts hold them so).
  const promises = (await has('marts.fct_promises'))
    ? await q(`
      select customer_key as customer_id, 'promise' as kind, null as ref, promised_date::varchar as d1, resolved_on::varchar as d2,
             minor_to_units(amount_cents, '${scope.currency}') as amount, minor_to_units(paid_cents, '${scope.currency}') as n, status, null as note
      from marts.fct_promises where currency = '${scope.currency}'`)
    : [];
  const disputes = (await has('marts.fct_disputes'))
    ? await q(`
      select d.customer_key as customer_id, 'dispute' as kind, coalesce(i.invoice_number, d.invoice_key) as ref, d.opened_on::varchar as d1, d.resolved_on::varchar as d2,
             minor_to_units(d.amount_cents, '${scope.currency}') as amount, null as n, d.status, d.reason as note
      from marts.fct_disputes d left join marts.fct_invoices i using (invoice_key) where d.currency = '${scope.currency}'`)
    : [];
  const reminders = (await has('marts.fct_reminders'))
    ? await q(`
      select r.customer_key as customer_id, 'reminder' as kind, coalesce(i.invoice_number, r.invoice_key) as ref, r.notice_date::varchar as d1, null as d2,
             minor_to_units(r.balance_cents, '${scope.currency}') as amount, r.level as n, r.level_name as status, null as note
      from marts.fct_reminders r left join marts.fct_invoices i using (invoice_key) where r.currency = '${scope.currency}'`)
    : [];
  const parts: Row[][] = Array.from({ length: PARTS }, () => []);
  for (const r of [...open, ...paid, ...reasons, ...facts, ...promises, ...disputes, ...reminders]) parts[partOf(String(r.customer_id))]!.push(r);
  const out = new Map<string, Uint8Array>();
  parts.forEach((rows, i) => {
    const str = (k: string) => rows.map((r) => (r[k] == null ? null : String(r[k])));
    const num = (k: string) => Float64Array.from(rows.map((r) => (r[k] == null ? NaN : Number(r[k]))));
    const t = tableFromArrays({ customer_id: str('customer_id') as string[], kind: str('kind') as string[], ref: str('ref') as string[], d1: str('d1') as string[], d2: str('d2') as string[], amount: num('amount'), n: num('n'), status: str('status') as string[], note: str('note') as string[] });
    out.set(`part-${i}.arrows`, tableToIPC(t, 'stream'));
  });
  return out;
});
await emitMembers(members);
