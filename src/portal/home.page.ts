import type { Core } from '../core.ts';
import { accountSummary, type AccountSummary } from '../payments/account.service.ts';
import { listDisputes } from '../collections/dispute.service.ts';
import { listPromises } from '../collections/promise.service.ts';
import { howToPay, type HowToPay } from '../documents/how-to-pay.ts';
import { longDate } from '../documents/format.ts';
import { balanceCard, howToPayCard, openInvoiceList, page } from './layout.ts';
import { loadOrderList, orderItems, pager, type OrderListView } from './orders.page.ts';

/**
 * The overview, in the order a customer on a phone needs it: what is owed (the balance card
 * and the open invoices, within the first screen), how to pay, then the newest orders.
 */
export interface HomeView {
  summary: AccountSummary;
  /** What pauses reminders for an open invoice: a dispute, or a promise to pay. */
  flags: Map<string, string>;
  pay: HowToPay;
  orders: OrderListView;
}

/** Each open invoice's dispute or standing promise, in words. */
export async function invoiceFlags(core: Core, customerId: number): Promise<Map<string, string>> {
  const flags = new Map<string, string>();
  for (const p of await listPromises(core.db.kysely, { customerId, status: 'open' })) for (const n of p.invoices) flags.set(n, `payment promised by ${longDate(p.promisedDate)}`);
  for (const d of await listDisputes(core.db.kysely, { customerId, status: 'open' })) flags.set(d.invoice, 'disputed');
  return flags;
}

export async function loadHome(core: Core, customerId: number): Promise<HomeView> {
  return { summary: await accountSummary(core, customerId), flags: await invoiceFlags(core, customerId), pay: await howToPay(core), orders: await loadOrderList(core, customerId, 1) };
}

export function homePage(customer: { id: number; name: string }, csrf: string, v: HomeView): string {
  return page({
    title: 'Overview',
    customer,
    csrf,
    active: 'overview',
    body: `${balanceCard(v.summary)}
<h2 id="open-invoices">Open invoices</h2>
${openInvoiceList(v.summary, v.flags)}
<div class="actions"><a class="button secondary" href="/portal/statement">Statement</a><a class="button secondary" href="/portal/statement.pdf">Statement (PDF)</a></div>
${v.summary.openInvoices.length ? howToPayCard(v.pay) : ''}
<h2 id="orders">Latest orders</h2>
${orderItems(v.orders)}${pager(v.orders.page, '/portal/orders')}`,
  });
}
