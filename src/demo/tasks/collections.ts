import { formatAmount } from '../../shared/money.ts';
import { createCreditNote } from '../../invoicing/invoice.service.ts';
import { runReminders } from '../../collections/reminder.service.ts';
import { openDispute, resolveDispute } from '../../collections/dispute.service.ts';
import { recordPromise, resolvePromises } from '../../collections/promise.service.ts';
import { DISPUTE_REASONS, type Simulation, type Task } from '../state.ts';
import { balances } from './payments.ts';

/** Collections: disputes raised and settled, promises to pay, and the Monday reminder run. */

export async function raiseDispute(ctx: Simulation, t: Extract<Task, { kind: 'open_dispute' }>) {
  const { core, actor, counts, call, desk } = ctx;
  const open = (await balances(ctx, [t.invoice])).get(t.invoice.id) ?? 0;
  if (open < t.amountMinor) return; // paid meanwhile: the dispute ends in a credit note only
  const d = await call('openDispute', () => openDispute(core, { invoice: t.invoice.number, reason: desk.pick(DISPUTE_REASONS), amount: formatAmount(t.amountMinor, t.invoice.customer.plan.currency) }, `${actor}:collections`));
  t.settle.disputeId = d.id;
  counts.disputesOpened++;
}

export async function settleDispute(ctx: Simulation, t: Extract<Task, { kind: 'dispute' }>, day: number) {
  const { core, actor, counts, schedule, businessDay, call } = ctx;
  const c = t.invoice.customer;
  if (c.stopped) return;
  const open = (await balances(ctx, [t.invoice])).get(t.invoice.id) ?? 0;
  if (open <= 0) return;
  if (t.concede) {
    counts.disputesConceded++;
    if (t.disputeId !== undefined) await call('resolveDispute', () => resolveDispute(core, t.disputeId!, { outcome: 'reject', note: 'delivery note signed without remarks: the customer pays in full' }, `${actor}:collections`));
    schedule(day, { kind: 'pay', invoice: t.invoice, mode: 'full' });
    return;
  }
  if (t.disputeId !== undefined) {
    await call('resolveDispute', () => resolveDispute(core, t.disputeId!, { outcome: 'credit', amount: formatAmount(Math.min(open, t.amountMinor), c.plan.currency), note: `settled: ${c.rng.pick(DISPUTE_REASONS)}` }, `${actor}:collections`));
    counts.disputeCreditNotes++;
    if (open > t.amountMinor) schedule(businessDay(day + c.rng.int(3, 15)), { kind: 'pay', invoice: t.invoice, mode: 'full' });
    return;
  }
  await call('createCreditNote', () => createCreditNote(core, { invoice: t.invoice.number, amount: formatAmount(Math.min(open, t.amountMinor), c.plan.currency), reason: `dispute settled: ${c.rng.pick(DISPUTE_REASONS)}`, kind: 'dispute' }, `${actor}:ar`));
  counts.disputeCreditNotes++;
  if (open > t.amountMinor) schedule(businessDay(day + c.rng.int(3, 15)), { kind: 'pay', invoice: t.invoice, mode: 'full' });
}

export async function promise(ctx: Simulation, t: Extract<Task, { kind: 'promise' }>) {
  const { core, actor, counts, call } = ctx;
  const open = (await balances(ctx, [t.invoice])).get(t.invoice.id) ?? 0;
  if (open <= 0) return;
  await call('recordPromise', () => recordPromise(core, { customerId: t.invoice.customer.id, invoices: [t.invoice.number], date: t.date, promisedBy: 'accounts payable, by phone' }, `${actor}:collections`));
  counts.promises++;
}

/** Monday morning at the collections desk: promises due are judged, then the reminder run. */
export async function collectionsRun(ctx: Simulation, date: string) {
  const { core, actor, counts, call } = ctx;
  await call('resolvePromises', () => resolvePromises(core, date, `${actor}:collections`));
  const run = await call('runReminders', () => runReminders(core, `${actor}:collections`, { asOf: date, send: false }));
  counts.reminders += run.messages.length;
}
