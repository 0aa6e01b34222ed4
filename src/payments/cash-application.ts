import { invalid } from '../shared/errors.ts';

/**
 * Cash application: which open invoices a receipt pays, in this order:
 * 1. invoices named in the payment's reference (by number or by the old system's number),
 *    each up to its balance, in the order named;
 * 2. if none is named: one open invoice whose balance is exactly the amount (oldest due);
 * 3. what is left goes to the oldest due invoices first.
 * Anything still left stays on the payment as unapplied credit for later invoices.
 * An invoice inside its early-payment window is settled by its balance less the discount;
 * the discount is then granted (the payment service books it as a credit note).
 * Pure: it plans, the payment service writes.
 */
export interface OpenItem {
  id: number;
  number: string;
  externalRef: string | null;
  dueDate: string;
  balanceMinor: number;
  /** Early-payment discount the customer earns if this receipt settles the invoice now. */
  discountMinor?: number;
}

export interface PlannedAllocation {
  invoiceId: number;
  amountMinor: number;
  rule: 'reference' | 'exact_amount' | 'oldest_due' | 'manual';
  /** Discount granted because this allocation settles the invoice within the discount window. */
  discountMinor: number;
}

const INVOICE_NUMBER_RE = /\b(?:INV|inv)-\d{4}-\d{6}\b/g;

/** Invoice numbers or old-system references found in free remittance text. */
export function referencedInvoices(reference: string | null, items: OpenItem[]): OpenItem[] {
  if (!reference) return [];
  const found: OpenItem[] = [];
  const add = (item: OpenItem | undefined) => {
    if (item && !found.includes(item)) found.push(item);
  };
  for (const m of reference.matchAll(INVOICE_NUMBER_RE)) add(items.find((i) => i.number === m[0].toUpperCase()));
  const tokens = reference.split(/[\s,;/]+/).filter(Boolean);
  for (const t of tokens) add(items.find((i) => i.externalRef !== null && i.externalRef === t));
  return found;
}

export function planCashApplication(amountMinor: number, reference: string | null, openItems: OpenItem[]): { allocations: PlannedAllocation[]; unappliedMinor: number } {
  const items = [...openItems].filter((i) => i.balanceMinor > 0).sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : a.id - b.id));
  // What settles each invoice now: its balance, less the discount while it is earned.
  const left = new Map(items.map((i) => [i.id, i.balanceMinor - (i.discountMinor ?? 0)]));
  const allocations: PlannedAllocation[] = [];
  let remaining = amountMinor;
  const take = (item: OpenItem, rule: PlannedAllocation['rule']) => {
    const open = left.get(item.id) ?? 0;
    const amount = Math.min(open, remaining);
    if (amount <= 0) return;
    const settles = amount === open && (item.discountMinor ?? 0) > 0;
    allocations.push({ invoiceId: item.id, amountMinor: amount, rule, discountMinor: settles ? item.discountMinor! : 0 });
    left.set(item.id, open - amount);
    remaining -= amount;
  };
  const named = referencedInvoices(reference, items);
  for (const item of named) take(item, 'reference');
  if (named.length === 0) {
    const exact = items.find((i) => left.get(i.id) === amountMinor);
    if (exact) take(exact, 'exact_amount');
  }
  for (const item of items) {
    if (remaining <= 0) break;
    take(item, 'oldest_due');
  }
  return { allocations, unappliedMinor: remaining };
}

/** A person's own split of a receipt: these invoices, these amounts; the rest stays unapplied. */
export interface ChosenAllocation {
  invoiceId: number;
  amountMinor: number;
}

/**
 * Checks a person's split against the customer's open items and plans it as given: each
 * invoice open for at least its amount, named once, the amounts together at most the
 * receipt; what is left stays on the payment as unapplied credit (an empty split keeps it
 * all on the customer's account). Refuses with the field (`allocations.N.amount`) and the
 * rule. No early-payment discount: the person chose the amounts.
 */
export function planChosenApplication(amountMinor: number, chosen: readonly ChosenAllocation[], openItems: readonly OpenItem[]): { allocations: PlannedAllocation[]; unappliedMinor: number } {
  const byId = new Map(openItems.map((i) => [i.id, i]));
  const seen = new Set<number>();
  let remaining = amountMinor;
  const allocations: PlannedAllocation[] = [];
  chosen.forEach((c, n) => {
    const item = byId.get(c.invoiceId);
    if (!item || item.balanceMinor <= 0) throw invalid(`allocation ${n + 1}: the invoice is not open for this customer`, { field: `allocations.${n}.invoice`, value: c.invoiceId, rule: 'open_invoice_of_customer' });
    if (seen.has(c.invoiceId)) throw invalid(`allocation ${n + 1}: invoice ${item.number} is named twice`, { field: `allocations.${n}.invoice`, value: item.number, rule: 'unique_invoice' });
    seen.add(c.invoiceId);
    if (!Number.isSafeInteger(c.amountMinor) || c.amountMinor <= 0) throw invalid(`allocation ${n + 1}: the amount must be above zero`, { field: `allocations.${n}.amount`, value: c.amountMinor, rule: 'positive' });
    if (c.amountMinor > item.balanceMinor) throw invalid(`allocation ${n + 1}: invoice ${item.number} is open for less than that`, { field: `allocations.${n}.amount`, value: c.amountMinor, rule: 'within_balance' });
    if (c.amountMinor > remaining) throw invalid(`allocation ${n + 1}: the split adds up to more than the receipt`, { field: `allocations.${n}.amount`, value: c.amountMinor, rule: 'within_receipt' });
    remaining -= c.amountMinor;
    allocations.push({ invoiceId: c.invoiceId, amountMinor: c.amountMinor, rule: 'manual', discountMinor: 0 });
  });
  return { allocations, unappliedMinor: remaining };
}
