import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import { invalid } from '../shared/errors.ts';
import { addDays, monthEnd } from '../shared/dates.ts';
import { formatMoney } from '../shared/money.ts';
import { displayMoney } from '../shared/figures.ts';
import { accountStatements } from '../payments/account-statement.service.ts';
import { renderAccountStatement } from './message.render.ts';
import { companyOf } from './reminder.service.ts';
import { insertAction } from './action.service.ts';
import { withoutBodies } from './outbox.repository.ts';

/**
 * Monthly statements of account: for a month (default: the last complete one), one
 * statement per customer that had movements in the month or a balance at its end, into the
 * outbox. A customer's statement for a month is written once; re-running adds nothing.
 */
export interface StatementRunResult {
  month: string;
  from: string;
  to: string;
  dryRun: boolean;
  statements: { customerId: number; customer: string; closingBalance: string; lines: number; messageId: number | null }[];
  skipped: number;
}

export async function runMonthlyStatements(core: Core, actor: string, options: { month?: string; dryRun?: boolean; customerIds?: number[] } = {}): Promise<StatementRunResult> {
  const today = core.clock.now().toISOString().slice(0, 10);
  const month = options.month ?? addDays(`${today.slice(0, 7)}-01`, -1).slice(0, 7);
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw invalid(`month must be written YYYY-MM, got ${JSON.stringify(options.month)}`, { field: 'month', value: options.month, rule: 'month_format' });
  const from = `${month}-01`;
  const to = monthEnd(from);
  const db = core.db.kysely;
  const company = await companyOf(db);
  let q = db.selectFrom('customers').select(['id', 'name', 'email']).orderBy('id');
  if (options.customerIds) q = q.where('id', 'in', options.customerIds.length ? options.customerIds : [-1]);
  const customers = await q.execute();
  const result: StatementRunResult = { month, from, to, dryRun: options.dryRun ?? false, statements: [], skipped: 0 };
  // Which statements of the month are written already, and the rest's statements, read together
  // (500 customers a read), not one read per customer.
  const keyOf = (id: number) => `statement:${id}:${month}`;
  const written = new Set<string>();
  for (let i = 0; i < customers.length; i += 500) {
    const rows = await db.selectFrom('outbox_messages').select('dedupe_key').where('dedupe_key', 'in', customers.slice(i, i + 500).map((c) => keyOf(c.id))).execute();
    for (const r of rows) if (r.dedupe_key) written.add(r.dedupe_key);
  }
  const statements = await accountStatements(core, customers.filter((c) => !written.has(keyOf(c.id))).map((c) => c.id), from, to);
  for (const c of customers) {
    const key = keyOf(c.id);
    if (written.has(key)) {
      result.skipped++;
      continue;
    }
    const statement = statements.get(c.id)!;
    if (statement.lines.length === 0 && statement.closingBalanceMinor === 0) continue;
    const rendered = renderAccountStatement(statement, c, company);
    let messageId: number | null = null;
    if (!result.dryRun) {
      messageId = await runChange(core, actor, async ({ trx, at }) => {
        const message = await trx
          .insertInto('outbox_messages')
          .values({ kind: 'statement', customer_id: c.id, dedupe_key: key, as_of: to, to_address: c.email, subject: rendered.subject, body_text: rendered.text, body_html: rendered.html, status: 'pending', error: null, attempts: 0, created_at: at, sent_at: null, exported_at: null })
          // Another run of the same month may have written it since the read above (PostgreSQL
          // runs them side by side): the unique key keeps the statement once, and this run skips it.
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!message) return { result: null, events: [], unchanged: true };
        const action = await insertAction(trx, { customer_id: c.id, invoice_id: null, kind: 'statement', note: `statement ${from} to ${to}, balance ${displayMoney(statement.closingBalanceMinor, statement.currency)}`, next_action: null, next_action_on: null, action_date: to, actor, created_at: at });
        return { result: message.id, events: [{ type: 'statement.created', aggregate: 'customer', id: c.id, after: { outbox_messages: [withoutBodies(message)], collection_actions: [action] } }] };
      });
      if (messageId === null) {
        result.skipped++;
        continue;
      }
    }
    result.statements.push({ customerId: c.id, customer: c.name, closingBalance: formatMoney(statement.closingBalanceMinor, statement.currency), lines: statement.lines.length, messageId });
  }
  return result;
}
