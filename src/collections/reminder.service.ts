import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { Database } from '../db/schema.ts';
import { addDays, parseBusinessDate } from '../shared/dates.ts';
import { formatMoney } from '../shared/money.ts';
import { conflict, DomainError } from '../shared/errors.ts';
import { getSettings } from '../settings/settings.service.ts';
import { accountStatement, accountStatements, type AccountStatement } from '../payments/account-statement.service.ts';
import { disputedOn, openItemsAsOf, promisedOn, sentLevels } from './collections.repository.ts';
import { planReminder, type ReminderCandidate, type ReminderPlan } from './reminder.rules.ts';
import { renderReminder, type Company, type RenderedMessage } from './message.render.ts';
import { policiesFor } from './policy.service.ts';
import { decidePromises, resolvePromises } from './promise.service.ts';
import { insertAction } from './action.service.ts';
import { withoutBodies } from './outbox.repository.ts';
import { configuredSmtp, sendOutbox } from './outbox.service.ts';

/**
 * The reminder run: on a day (default today), for every customer, one consolidated
 * reminder listing each invoice at its dunning level — written to the outbox with its
 * notices, one change per customer — when at least one invoice reached a level not
 * announced before. Disputed invoices and invoices under a standing promise are left out;
 * promises are decided first, so a broken one resumes dunning. Running it again the same
 * day finds nothing new and writes nothing. With `dryRun` nothing is written.
 */
export interface ReminderRunOptions {
  asOf?: string;
  dryRun?: boolean;
  customerIds?: number[];
  /** Send the new messages when an SMTP server is configured (default true). */
  send?: boolean;
}

export interface ReminderRunMessage {
  customerId: number;
  customer: string;
  to: string | null;
  level: number;
  levelName: string;
  invoices: number;
  newNotices: number;
  totalDue: string;
  paused: number;
  actions: string[];
  messageId: number | null;
  subject: string;
}

export interface ReminderRunResult {
  asOf: string;
  dryRun: boolean;
  customersChecked: number;
  messages: ReminderRunMessage[];
  promisesDecided: { id: number; status: string }[];
  sent: number | null;
  failed: number | null;
}

export async function companyOf(db: Kysely<Database>): Promise<Company> {
  const s = await getSettings(db);
  return { name: s['company.name'], email: s['company.email'], paymentInstructions: s['company.payment_instructions'] };
}

/** Every customer's reminder plan on `asOf` (no writes). */
export async function planReminders(core: Core, asOf: string, options: { customerIds?: number[]; excludePromises?: Set<number> } = {}): Promise<{ plans: ReminderPlan[]; customersChecked: number }> {
  const db = core.db.kysely;
  const items = await openItemsAsOf(db, asOf, { customerIds: options.customerIds });
  const customerIds = [...new Set(items.map((i) => i.customer_id))];
  if (customerIds.length === 0) return { plans: [], customersChecked: 0 };
  const customers = await db.selectFrom('customers').select(['id', 'currency', 'dunning_policy']).where('id', 'in', customerIds).execute();
  const policies = await policiesFor(db, customers);
  const sent = await sentLevels(db, items.map((i) => i.invoice_id));
  const disputed = await disputedOn(db, asOf);
  const promised = await promisedOn(db, asOf);
  const plans: ReminderPlan[] = [];
  for (const c of customers.sort((a, b) => a.id - b.id)) {
    const candidates: ReminderCandidate[] = items
      .filter((i) => i.customer_id === c.id)
      .map((i) => {
        const p = promised.get(i.invoice_id);
        return {
          invoiceId: i.invoice_id, number: i.number, invoiceDate: i.invoice_date, dueDate: i.due_date, balanceMinor: i.balance_minor,
          sentLevel: sent.get(i.invoice_id)?.level ?? 0, disputed: disputed.has(i.invoice_id),
          promisedDate: p && !options.excludePromises?.has(p.promiseId) ? p.promisedDate : null,
        };
      });
    const plan = planReminder({ customerId: c.id, currency: c.currency, asOf, policy: policies.get(c.id)!, candidates });
    if (plan) plans.push(plan);
  }
  return { plans, customersChecked: customers.length };
}

/** The period of the statement a reminder carries: the 90 days up to the run's day. */
const statementFrom = (asOf: string) => addDays(asOf, -90);

/**
 * Renders a plan's letter; `customer` (name and e-mail) and `statement` (the customer's
 * statement for the 90 days to the plan's day) when the caller has read them already.
 */
export async function renderPlan(core: Core, plan: ReminderPlan, company: Company, known?: { name: string; email: string | null }, read?: AccountStatement): Promise<{ rendered: RenderedMessage; customer: { name: string; email: string | null } }> {
  const customer = known ?? (await core.db.kysely.selectFrom('customers').select(['name', 'email']).where('id', '=', plan.customerId).executeTakeFirstOrThrow());
  const statement = read ?? (await accountStatement(core, { customerId: plan.customerId, from: statementFrom(plan.asOf), to: plan.asOf }));
  return { rendered: renderReminder(plan, customer, company, statement), customer };
}

function dedupeKey(plan: ReminderPlan): string {
  const fresh = plan.lines.filter((l) => l.isNew).map((l) => `${l.invoiceId}.${l.level.level}`).sort().join(',');
  return `reminder:${plan.customerId}:${plan.asOf}:${createHash('sha256').update(fresh).digest('hex').slice(0, 16)}`;
}

export async function runReminders(core: Core, actor: string, options: ReminderRunOptions = {}): Promise<ReminderRunResult> {
  const db = core.db.kysely;
  const asOf = options.asOf ? parseBusinessDate(options.asOf, 'asOf') : core.clock.now().toISOString().slice(0, 10);
  const dryRun = options.dryRun ?? false;
  let promisesDecided: { id: number; status: string }[];
  let excludePromises: Set<number> | undefined;
  if (dryRun) {
    const decisions = await decidePromises(db, asOf);
    promisesDecided = decisions.map((d) => ({ id: d.promise.id, status: d.status }));
    excludePromises = new Set(decisions.map((d) => d.promise.id));
  } else {
    promisesDecided = (await resolvePromises(core, asOf, actor)).map((p) => ({ id: p.id, status: p.status }));
  }
  const { plans, customersChecked } = await planReminders(core, asOf, { customerIds: options.customerIds, excludePromises });
  const company = await companyOf(db);
  // The letters' names and addresses in one read, not one per letter.
  const names = new Map<number, { name: string; email: string | null }>();
  for (let i = 0; i < plans.length; i += 500) {
    const rows = await db.selectFrom('customers').select(['id', 'name', 'email']).where('id', 'in', plans.slice(i, i + 500).map((p) => p.customerId)).execute();
    for (const r of rows) names.set(r.id, { name: r.name, email: r.email });
  }
  // Their statements too, read together: the letters only add to the outbox, so none changes another's statement.
  const statements = await accountStatements(core, plans.map((p) => p.customerId), statementFrom(asOf), asOf);
  const messages: ReminderRunMessage[] = [];
  for (const plan of plans) {
    const { rendered, customer } = await renderPlan(core, plan, company, names.get(plan.customerId), statements.get(plan.customerId));
    const summary: ReminderRunMessage = {
      customerId: plan.customerId, customer: customer.name, to: customer.email, level: plan.level.level, levelName: plan.level.name, invoices: plan.lines.length,
      newNotices: plan.lines.filter((l) => l.isNew).length, totalDue: formatMoney(plan.totalDueMinor, plan.currency), paused: plan.paused.length, actions: plan.actions, messageId: null, subject: rendered.subject,
    };
    if (!dryRun) {
      const id = await recordReminder(core, plan, rendered, customer.email, actor).catch((e: unknown) => {
        // Another run wrote this very letter while this one prepared it: it is sent once, by that run.
        if (e instanceof DomainError && e.detail.rule === 'reminder_once') return null;
        throw e;
      });
      if (id === null) continue;
      summary.messageId = id;
    }
    messages.push(summary);
  }
  let sent: number | null = null;
  let failed: number | null = null;
  if (!dryRun && (options.send ?? true) && configuredSmtp() && messages.length > 0) {
    const r = await sendOutbox(core, actor);
    sent = r.sent;
    failed = r.failed;
  }
  return { asOf, dryRun, customersChecked, messages, promisesDecided, sent, failed };
}

/** Writes one customer's reminder: the message, a notice per newly reached level, the log entries. */
async function recordReminder(core: Core, plan: ReminderPlan, rendered: RenderedMessage, email: string | null, actor: string): Promise<number> {
  return runChange(core, actor, async ({ trx, at }) => {
    const key = dedupeKey(plan);
    const existing = await trx.selectFrom('outbox_messages').select('id').where('dedupe_key', '=', key).executeTakeFirst();
    if (existing) throw conflict(`reminder ${key} was written already (message ${existing.id})`, { entity: 'message', id: existing.id, rule: 'reminder_once' });
    const message = await trx
      .insertInto('outbox_messages')
      .values({ kind: 'reminder', customer_id: plan.customerId, dedupe_key: key, as_of: plan.asOf, to_address: email, subject: rendered.subject, body_text: rendered.text, body_html: rendered.html, status: 'pending', error: null, attempts: 0, created_at: at, sent_at: null, exported_at: null })
      // Two runs at once both pass the check above on PostgreSQL; the unique key lets one write.
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!message) throw conflict(`reminder ${key} was written by another run at the same time`, { entity: 'message', id: key, rule: 'reminder_once' });
    const fresh = plan.lines.filter((l) => l.isNew);
    // The letter's fee is recorded once, on the first invoice at the highest new level.
    const topNew = Math.max(...fresh.map((l) => l.level.level));
    const feeLine = fresh.find((l) => l.level.level === topNew);
    const notices = await trx
      .insertInto('dunning_notices')
      .values(fresh.map((l) => ({
        message_id: message.id, invoice_id: l.invoiceId, customer_id: plan.customerId, policy: plan.policy, level: l.level.level, level_name: l.level.name, notice_date: plan.asOf,
        days_past_due: l.daysPastDue, balance_minor: l.balanceMinor, fee_minor: l === feeLine ? plan.feeMinor : 0, interest_minor: l.interestMinor,
        actions: JSON.stringify(l.level.actions), created_at: at,
      })))
      .returningAll()
      .execute();
    const actions = [
      await insertAction(trx, { customer_id: plan.customerId, invoice_id: null, kind: 'reminder', note: `${plan.level.name}: ${rendered.subject}`, next_action: null, next_action_on: null, action_date: plan.asOf, actor, created_at: at }),
    ];
    if (plan.actions.includes('hand_over')) {
      actions.push(await insertAction(trx, { customer_id: plan.customerId, invoice_id: null, kind: 'escalation', note: `handed over to collections at ${plan.level.name}: ${fresh.filter((l) => l.level.actions.includes('hand_over')).map((l) => l.number).join(', ')}`, next_action: 'collections agency follow-up', next_action_on: addDays(plan.asOf, 14), action_date: plan.asOf, actor, created_at: at }));
    }
    return { result: message.id, events: [{ type: 'dunning.reminder_created', aggregate: 'customer', id: plan.customerId, after: { outbox_messages: [withoutBodies(message)], dunning_notices: notices, collection_actions: actions } }] };
  });
}
