import { addDays, daysBetween } from '../../shared/dates.ts';
import { formatAmount } from '../../shared/money.ts';
import { writeOffInvoice } from '../../invoicing/invoice.service.ts';
import { invoiceBalances, unappliedPayments } from '../../invoicing/invoice.repository.ts';
import { applyPaymentToInvoice, recordPayment, reversePayment } from '../../payments/payment.service.ts';
import { daysLate } from '../habits.ts';
import { type CustomerState, type InvoiceState, type PayMode, type Simulation, type Task } from '../state.ts';

/** Payments: when and how each invoice is paid, the receipts, bounced payments, and short payments written off. */

export function planPayment(ctx: Simulation, inv: InvoiceState, day: number) {
  const { options, counts, schedule, businessDay, desk, totalDays } = ctx;
  const c = inv.customer;
  const p = c.plan.profile;
  const r = c.rng;
  const dueDay = daysBetween(options.start, inv.dueDate);
  const payDay = businessDay(Math.max(day + 1, dueDay + daysLate(p, r, inv.dueDate, day, totalDays)));
  if (r.chance(p.disputeRate)) {
    counts.disputes++;
    const disputed = Math.max(100, Math.round((inv.totalMinor * r.float(0.1, 0.4)) / 100) * 100);
    const fraction = (inv.totalMinor - disputed) / inv.totalMinor;
    schedule(payDay, { kind: 'pay', invoice: inv, mode: 'part', fraction });
    const settle: Extract<Task, { kind: 'dispute' }> = { kind: 'dispute', invoice: inv, amountMinor: disputed, concede: r.chance(0.15) };
    schedule(businessDay(payDay + r.int(15, 45)), settle);
    // The customer pays what it does not contest, then raises the rest with the collections
    // desk (a payment naming an invoice under dispute is not applied to it).
    schedule(businessDay(payDay + desk.int(1, 5)), { kind: 'open_dispute', invoice: inv, amountMinor: disputed, settle });
    return;
  }
  const mode = r.weighted<PayMode>([['part', p.partialRate], ['short', p.shortRate], ['over', p.overRate], ['full', 1 - p.partialRate - p.shortRate - p.overRate]]);
  schedule(payDay, { kind: 'pay', invoice: inv, mode, fraction: mode === 'part' ? r.float(0.3, 0.7) : undefined });
  // A late payer chased after the due date often promises a date: mostly the day it will
  // really pay, sometimes an earlier one it will not keep.
  if (payDay > dueDay + 7 && desk.chance(0.3)) {
    const promiseDay = businessDay(Math.max(day + 1, dueDay + desk.int(3, 10)));
    if (promiseDay < payDay) {
      const promised = desk.chance(0.75) ? payDay : Math.max(promiseDay + 1, payDay - desk.int(5, 15));
      schedule(promiseDay, { kind: 'promise', invoice: inv, date: addDays(options.start, promised) });
    }
  }
  if (mode === 'part') schedule(businessDay(payDay + r.int(10, 40)), { kind: 'pay', invoice: inv, mode: 'full' });
}

/** One receipt: amount, the invoices it names, and what happens to it afterwards. */
export async function receive(ctx: Simulation, c: CustomerState, items: { inv: InvoiceState; amountMinor: number }[], day: number, extraMinor = 0) {
  const { core, actor, counts, schedule, businessDay, call } = ctx;
  const amount = items.reduce((s, x) => s + x.amountMinor, 0) + extraMinor;
  if (amount <= 0) return null;
  const payment = await call('recordPayment', () =>
    recordPayment(core, { customerId: c.id, amount: formatAmount(amount, c.plan.currency), reference: items.map((x) => x.inv.number).join(' '), payer: c.plan.name, method: 'bank_transfer' }, `${actor}:bank`),
  );
  counts.payments++;
  if (c.rng.chance(c.plan.profile.bounceRate)) schedule(businessDay(day + c.rng.int(2, 5)), { kind: 'bounce', paymentId: payment.id, customer: c, invoices: items.map((x) => x.inv) });
  return payment;
}

export async function balances(ctx: Simulation, invoices: InvoiceState[]) {
  const { core, call } = ctx;
  const rows = await call('invoiceBalances', () => invoiceBalances(core.db.kysely, { invoiceIds: invoices.map((i) => i.id) }));
  return new Map(rows.map((r) => [r.id, r.balance_minor]));
}

/**
 * The open balances of every invoice the day's payers pay, in one read (chunks of 1,000)
 * instead of one read per customer: a receipt touches only its own customer's invoices, so
 * reading them all before the first receipt gives each customer what its own read gave.
 */
async function dayBalances(ctx: Simulation, invoices: InvoiceState[]) {
  const { core, call } = ctx;
  const ids = [...new Set(invoices.map((i) => i.id))];
  return call('invoiceBalances', async () => {
    const out = new Map<number, number>();
    for (let k = 0; k < ids.length; k += 1000) for (const r of await invoiceBalances(core.db.kysely, { invoiceIds: ids.slice(k, k + 1000) })) out.set(r.id, r.balance_minor);
    return out;
  });
}

export async function payDay(ctx: Simulation, tasks: Extract<Task, { kind: 'pay' }>[], day: number) {
  const { clock, counts, schedule, businessDay, tolerance } = ctx;
  // Group by customer: one transfer settles every invoice a customer pays in full that day.
  const byCustomer = new Map<CustomerState, Extract<Task, { kind: 'pay' }>[]>();
  for (const t of tasks) {
    if (t.invoice.customer.stopped) continue;
    const list = byCustomer.get(t.invoice.customer) ?? [];
    list.push(t);
    byCustomer.set(t.invoice.customer, list);
  }
  const bal = byCustomer.size ? await dayBalances(ctx, [...byCustomer.values()].flat().map((t) => t.invoice)) : new Map<number, number>();
  let first = true;
  for (const [c, list] of byCustomer) {
    // The clock moves a second per customer, as when each customer's balances were read on
    // their own (the read above took the first customer's second), so every timestamp of the
    // company stays what the seed gave before.
    if (!first) clock.advance(1000);
    first = false;
    const full: { inv: InvoiceState; amountMinor: number }[] = [];
    for (const t of list) {
      const open = bal.get(t.invoice.id) ?? 0;
      if (open <= 0) continue;
      if (t.mode === 'full') {
        full.push({ inv: t.invoice, amountMinor: open });
      } else if (t.mode === 'part') {
        const amountMinor = Math.max(1, Math.min(open - 1, Math.round(t.invoice.totalMinor * (t.fraction ?? 0.5))));
        if (amountMinor <= 0 || amountMinor >= open) full.push({ inv: t.invoice, amountMinor: open });
        else if (await receive(ctx, c, [{ inv: t.invoice, amountMinor }], day)) counts.partialPayments++;
      } else if (t.mode === 'short') {
        const short = c.rng.int(10, Math.max(10, tolerance - 1));
        if (open <= short + 100) full.push({ inv: t.invoice, amountMinor: open });
        else {
          await receive(ctx, c, [{ inv: t.invoice, amountMinor: open - short }], day);
          counts.shortPayments++;
          schedule(businessDay(day + c.rng.int(5, 15)), { kind: 'writeoff', invoices: [t.invoice] });
        }
      } else {
        const extra = c.rng.chance(0.3) ? open : Math.round(c.rng.float(1, 250)) * 100; // paid twice, or rounded up
        await receive(ctx, c, [{ inv: t.invoice, amountMinor: open }], day, extra);
        counts.overpayments++;
      }
    }
    if (full.length) await receive(ctx, c, full, day);
  }
}

export async function bounce(ctx: Simulation, t: Extract<Task, { kind: 'bounce' }>, day: number) {
  const { core, actor, counts, schedule, businessDay, call } = ctx;
  const c = t.customer;
  await call('reversePayment', () => reversePayment(core, t.paymentId, c.rng.pick(['returned by the bank: insufficient funds', 'direct debit returned (AC04 account closed)', 'cheque bounced']), `${actor}:bank`));
  counts.reversedPayments++;
  // Credit the customer still has (an earlier overpayment) goes onto the re-opened invoices.
  const credit = await call('unappliedPayments', () => unappliedPayments(core.db.kysely, c.id));
  if (credit.length) {
    const bal = await balances(ctx, t.invoices);
    for (const inv of t.invoices) {
      for (const p of credit) {
        const open = bal.get(inv.id) ?? 0;
        const amount = Math.min(open, p.unapplied_minor);
        if (amount <= 0) continue;
        await call('applyPaymentToInvoice', () => applyPaymentToInvoice(core, { paymentId: p.id, invoice: inv.number, amount: formatAmount(amount, c.plan.currency) }, `${actor}:ar`));
        counts.creditAppliedByHand++;
        p.unapplied_minor -= amount;
        bal.set(inv.id, open - amount);
      }
    }
  }
  for (const inv of t.invoices) schedule(businessDay(day + c.rng.int(7, 20)), { kind: 'pay', invoice: inv, mode: 'full' });
}

export async function writeOff(ctx: Simulation, t: Extract<Task, { kind: 'writeoff' }>) {
  const { core, actor, counts, call, tolerance } = ctx;
  const bal = await balances(ctx, t.invoices);
  for (const inv of t.invoices) {
    const open = bal.get(inv.id) ?? 0;
    if (open <= 0 || open > tolerance) continue;
    await call('writeOffInvoice', () => writeOffInvoice(core, inv.number, 'bank charges deducted by the customer', `${actor}:ar`));
    counts.writeOffs++;
  }
}
