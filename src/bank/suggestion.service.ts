import { sql } from 'kysely';
import type { Core } from '../core.ts';
import { forUpdate, lockCustomer, runChange } from '../core.ts';
import type { BankEntryRow, InvoiceRow } from '../db/schema.ts';
import { badTransition, conflict, invalid, notFound } from '../shared/errors.ts';
import { formatAmount, parsePositiveAmount } from '../shared/money.ts';
import { displayMoney } from '../shared/figures.ts';
import { requireId, requireText } from '../shared/validate.ts';
import { invoiceBalances, type InvoiceBalance } from '../invoicing/invoice.repository.ts';
import { recordPaymentChange } from '../payments/payment.service.ts';
import { BANK_ACTOR_METHOD, invoicesNamedIn } from './bank.service.ts';

/**
 * Cash application by hand: for each bank line the import could not match, suggested
 * matches with the reason for each, and the three ways a person settles it in one click —
 * match (one invoice, or a suggestion), split across invoices, or keep the money on the
 * customer's account unapplied. Suggestions only read; `applyEntry` records the payment and
 * the match as one change under the customer's lock.
 */

export type SuggestionKind = 'reference' | 'customer_amount' | 'several_invoices' | 'exact_amount' | 'oldest_first';

export interface SuggestedAllocation {
  invoiceId: number;
  invoice: string;
  dueDate: string;
  balanceMinor: number;
  amountMinor: number;
}

export interface Suggestion {
  kind: SuggestionKind;
  customerId: number;
  customer: string;
  allocations: SuggestedAllocation[];
  /** What the suggestion leaves on the customer's account. */
  unappliedMinor: number;
  /** Why, in words a person checks against the bank line. */
  reason: string;
}

export interface UnmatchedLine {
  id: number;
  key: string;
  statementId: string;
  entryRef: string;
  direction: 'credit' | 'debit';
  amountMinor: number;
  currency: string;
  bookingDate: string;
  payerName: string | null;
  payerIban: string | null;
  remittance: string | null;
  returnReason: string | null;
  /** The customer the import identified as payer, if any. */
  customerId: number | null;
  suggestions: Suggestion[];
}

/** How many invoices of one customer the "several invoices" search combines, and over how many of the oldest. */
const MAX_COMBINED = 4;
const MAX_SEARCHED = 20;
const MAX_SUGGESTIONS = 5;

const money = displayMoney;

/** Invoice numbers written loosely in a remittance: `inv 2026 000123`, `INV2026000123`, `2026-000123`. */
export function looseInvoiceNumbers(text: string | null): string[] {
  if (!text) return [];
  const out = new Set<string>();
  for (const m of text.matchAll(/(?:\b(INV|IMP)[\s._-]*|\b)(\d{4})[\s._/-]*(\d{6})\b/gi)) out.add(`${(m[1] ?? 'INV').toUpperCase()}-${m[2]}-${m[3]}`);
  return [...out];
}

/** A company name without its legal form, punctuation and case: "ACME GmbH." → "acme". */
export function nameKey(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f.]/g, '')
    .replace(/[^a-z0-9 ]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w && !LEGAL_FORMS.has(w))
    .join(' ');
}
const LEGAL_FORMS = new Set(['gmbh', 'ag', 'kg', 'ohg', 'ug', 'mbh', 'co', 'ltd', 'limited', 'plc', 'llc', 'inc', 'corp', 'sa', 'sarl', 'sas', 'bv', 'nv', 'srl', 'spa', 'ab', 'as', 'oy', 'the', 'und', 'and']);

/** Subsets of up to `MAX_COMBINED` items whose balances sum exactly to `target`, fewest invoices first. */
export function exactCombinations<T>(items: readonly T[], target: number, balanceOf: (item: T) => number, limit = 3): T[][] {
  const found: T[][] = [];
  const pool = items.slice(0, MAX_SEARCHED);
  const walk = (start: number, size: number, sum: number, chosen: T[]) => {
    if (found.length >= limit) return;
    if (chosen.length === size) {
      if (sum === target) found.push([...chosen]);
      return;
    }
    for (let i = start; i < pool.length; i++) {
      const next = sum + balanceOf(pool[i]!);
      if (next > target) continue;
      chosen.push(pool[i]!);
      walk(i + 1, size, next, chosen);
      chosen.pop();
    }
  };
  for (let size = 2; size <= Math.min(MAX_COMBINED, pool.length); size++) walk(0, size, 0, []);
  return found;
}

const allocation = (i: InvoiceBalance, amountMinor: number): SuggestedAllocation => ({ invoiceId: i.id, invoice: i.number, dueDate: i.due_date, balanceMinor: i.balance_minor, amountMinor });

/** Oldest due first, up to the amount: what the core's own rules would do without a reference. */
function oldestFirst(open: InvoiceBalance[], amount: number): { allocations: SuggestedAllocation[]; unapplied: number } {
  const out: SuggestedAllocation[] = [];
  let left = amount;
  for (const i of open) {
    if (left <= 0) break;
    const take = Math.min(left, i.balance_minor);
    out.push(allocation(i, take));
    left -= take;
  }
  return { allocations: out, unapplied: left };
}

/**
 * What the suggestions of a page of bank lines read in one go instead of line by line: the
 * customers whose IBAN or exact name a line carries, the customers whose name contains a
 * line's payer name word by word, and the untouched open invoices of exactly a line's amount.
 * Each line's suggestions then pick their part; the rules stay those of one line.
 */
interface PageReads {
  byIban: Map<string, { id: number; currency: string }[]>;
  /** By `lower(name)` as the database lowers it. */
  byName: Map<string, { id: number; currency: string }[]>;
  /** By LIKE pattern: the matching customers, lowest id first, at most `NAME_SEARCHED`. */
  byPattern: Map<string, { id: number; name: string }[]>;
  /** By `currency:amount`: open invoices of exactly that total with their balance, oldest due first, at most `MAX_SUGGESTIONS`. */
  sameAmount: Map<string, InvoiceBalance[]>;
  /** By bank line id: the customers who may have sent the money (see `payerCandidates`). */
  payers: Map<number, Payer[]>;
  /** By customer: the open invoices of the page's payers with their balance, oldest due first. */
  openOf: Map<number, InvoiceBalance[]>;
}

type Payer = { id: number; name: string; currency: string; how: string };

/** How many customers whose name contains the payer's words are looked at. */
const NAME_SEARCHED = 50;

/** Every word of the payer's name, in order, anywhere in the customer's name (null when the name is too short to search). */
function namePattern(payerName: string | null): string | null {
  if (!payerName) return null;
  const key = nameKey(payerName);
  if (key.replace(/ /g, '').length < 3) return null;
  return `%${key.split(' ').map((w) => w.replace(/[%_\\]/g, '')).join('%')}%`;
}

async function pageReads(core: Core, lines: BankEntryRow[]): Promise<PageReads> {
  const db = core.db.kysely;
  const credits = lines.filter((e) => e.direction === 'credit' && e.status === 'unmatched');
  const ibans = [...new Set(credits.flatMap((e) => (e.payer_iban ? [e.payer_iban] : [])))];
  const names = [...new Set(credits.flatMap((e) => (e.payer_name ? [e.payer_name.trim().toLowerCase()] : [])))];
  const patterns = [...new Set(credits.flatMap((e) => namePattern(e.payer_name) ?? []))];
  const amounts = [...new Set(credits.map((e) => Number(e.amount_minor)))];
  const currencies = [...new Set(credits.map((e) => e.currency))];
  const out: PageReads = { byIban: new Map(), byName: new Map(), byPattern: new Map(), sameAmount: new Map(), payers: new Map(), openOf: new Map() };
  const group = <K, V>(m: Map<K, V[]>, k: K, v: V) => m.set(k, [...(m.get(k) ?? []), v]);
  if (ibans.length) for (const c of await db.selectFrom('customers').select(['id', 'currency', 'iban']).where('iban', 'in', ibans).orderBy('id').execute()) group(out.byIban, c.iban!, { id: c.id, currency: c.currency });
  if (names.length) {
    for (const c of await db.selectFrom('customers').select(['id', 'currency', sql<string>`lower(name)`.as('lname')]).where((eb) => eb(eb.fn('lower', ['name']), 'in', names)).orderBy('id').execute()) group(out.byName, c.lname, { id: c.id, currency: c.currency });
  }
  if (patterns.length) {
    // One pass over the customers for every pattern of the page; each row says which patterns it matches.
    const flags = patterns.map((p, k) => sql<number>`case when lower(name) like ${p} then 1 else 0 end`.as(`m${k}`));
    const rows = await db.selectFrom('customers').select(['id', 'name']).select(flags).where(sql<boolean>`(${sql.join(patterns.map((p) => sql`lower(name) like ${p}`), sql` or `)})`).orderBy('id').execute();
    patterns.forEach((p, k) => out.byPattern.set(p, rows.filter((r) => Number((r as Record<string, unknown>)[`m${k}`]) === 1).slice(0, NAME_SEARCHED).map((r) => ({ id: r.id, name: r.name }))));
  }
  if (amounts.length) {
    const same = await db
      .selectFrom((eb) =>
        eb.selectFrom('invoices').select(['id', 'total_minor', 'currency', sql<number>`row_number() over (partition by total_minor, currency order by due_date, id)`.as('rn')]).where('status', '=', 'open').where('total_minor', 'in', amounts).where('currency', 'in', currencies).as('s'),
      )
      .select('id')
      .where('rn', '<=', MAX_SUGGESTIONS)
      .execute();
    const balances = same.length ? await invoiceBalances(db, { invoiceIds: same.map((i) => i.id), openOnly: true }) : [];
    for (const b of balances) group(out.sameAmount, `${b.currency}:${Number(b.total_minor)}`, b);
  }
  // The payers of every line, then all their open invoices in one read.
  for (const e of credits) out.payers.set(e.id, await payerCandidates(core, e, out));
  const payerIds = [...new Set([...out.payers.values()].flatMap((cs) => cs.map((c) => c.id)))];
  if (payerIds.length) {
    const ids = await db.selectFrom('invoices').select('id').where('customer_id', 'in', payerIds).where('status', 'in', ['open', 'partially_paid']).execute();
    for (const b of ids.length ? await invoiceBalances(db, { invoiceIds: ids.map((i) => i.id), openOnly: true }) : []) group(out.openOf, b.customer_id, b);
  }
  return out;
}

/** The customer who sent the money, as the import identifies it: by the IBAN on file, else by exactly one customer of that name. */
function payerOf(e: BankEntryRow, reads: PageReads): { id: number; currency: string } | null {
  if (e.payer_iban) {
    const byIban = reads.byIban.get(e.payer_iban) ?? [];
    if (byIban.length === 1) return byIban[0]!;
  }
  if (e.payer_name) {
    const byName = reads.byName.get(e.payer_name.trim().toLowerCase()) ?? [];
    if (byName.length === 1) return byName[0]!;
  }
  return null;
}

/** The customers who may have sent the money, and how each was recognised. */
async function payerCandidates(core: Core, e: BankEntryRow, reads: PageReads): Promise<Payer[]> {
  const db = core.db.kysely;
  const out: Payer[] = [];
  const add = async (id: number, how: string) => {
    if (out.some((c) => c.id === id)) return;
    const c = await db.selectFrom('customers').select(['id', 'name', 'currency']).where('id', '=', id).executeTakeFirst();
    if (c) out.push({ ...c, how });
  };
  const payer = payerOf(e, reads);
  if (payer) await add(payer.id, e.payer_iban && (reads.byIban.get(e.payer_iban) ?? []).some((c) => c.id === payer.id) ? `the payer's IBAN ${e.payer_iban} is on file for` : `the payer's name is that of`);
  if (e.customer_id !== null) await add(e.customer_id, 'the import identified the payer as');
  const pattern = namePattern(e.payer_name);
  if (out.length === 0 && pattern !== null) {
    const key = nameKey(e.payer_name!);
    for (const c of (reads.byPattern.get(pattern) ?? []).filter((c) => nameKey(c.name) === key).slice(0, 3)) await add(c.id, `the payer's name "${e.payer_name}" reads as`);
  }
  return out.filter((c) => c.currency === e.currency);
}

/** Suggested matches for one unmatched credit line, strongest first, each with its reason. */
export async function suggestionsFor(core: Core, e: BankEntryRow): Promise<Suggestion[]> {
  return suggestionsWith(core, e, await pageReads(core, [e]));
}

async function suggestionsWith(core: Core, e: BankEntryRow, reads: PageReads): Promise<Suggestion[]> {
  if (e.direction !== 'credit' || e.status !== 'unmatched') return [];
  const db = core.db.kysely;
  const amount = Number(e.amount_minor);
  const amountText = money(amount, e.currency);
  const out: Suggestion[] = [];
  const push = (s: Suggestion) => {
    const key = `${s.customerId}:${s.allocations.map((a) => `${a.invoiceId}=${a.amountMinor}`).join(',')}`;
    if (!out.some((o) => `${o.customerId}:${o.allocations.map((a) => `${a.invoiceId}=${a.amountMinor}`).join(',')}` === key)) out.push(s);
  };
  const names = new Map<number, string>();
  const nameOf = async (id: number) => {
    if (!names.has(id)) names.set(id, (await db.selectFrom('customers').select('name').where('id', '=', id).executeTakeFirst())?.name ?? `customer ${id}`);
    return names.get(id)!;
  };

  // 1. The reference, as the matcher reads it and as people write it.
  const named: InvoiceRow[] = [...(await invoicesNamedIn(core, { structuredRefs: [], unstructured: e.remittance ? [e.remittance] : [] }))];
  const loose = looseInvoiceNumbers(e.remittance).filter((n) => !named.some((i) => i.number === n));
  if (loose.length) named.push(...(await db.selectFrom('invoices').selectAll().where('number', 'in', loose).execute()));
  const namedOpen = named.length ? (await invoiceBalances(db, { invoiceIds: named.map((i) => i.id), openOnly: true })).filter((i) => i.balance_minor > 0 && i.currency === e.currency) : [];
  const byCustomer = new Map<number, InvoiceBalance[]>();
  for (const n of named) for (const i of namedOpen) if (i.id === n.id) byCustomer.set(i.customer_id, [...(byCustomer.get(i.customer_id) ?? []), i]);
  for (const [customerId, invoices] of byCustomer) {
    let left = amount;
    const allocations = invoices.flatMap((i) => {
      const take = Math.min(left, i.balance_minor);
      left -= take;
      return take > 0 ? [allocation(i, take)] : [];
    });
    const what = invoices.map((i) => `${i.number} (open ${money(i.balance_minor, i.currency)})`).join(', ');
    push({ kind: 'reference', customerId, customer: await nameOf(customerId), allocations, unappliedMinor: left, reason: `The remittance "${e.remittance}" names ${what}${left > 0 ? `; ${money(left, e.currency)} is left over` : ''}.` });
  }
  for (const n of named.filter((n) => !namedOpen.some((i) => i.id === n.id))) {
    // A named invoice that is paid, cancelled or in another currency: say so, it explains why nothing matched.
    if (n.currency !== e.currency) continue;
    if (n.status === 'paid') {
      push({ kind: 'reference', customerId: n.customer_id, customer: await nameOf(n.customer_id), allocations: [], unappliedMinor: amount, reason: `The remittance names ${n.number}, which is already paid: keep ${amountText} on the customer's account.` });
    }
  }

  // 2. The payer's own open invoices: one of exactly the amount, several adding up to it, else oldest first.
  for (const c of reads.payers.get(e.id) ?? []) {
    const open = (reads.openOf.get(c.id) ?? []).filter((i) => i.balance_minor > 0);
    const who = `${c.how} ${c.name}`;
    const exact = open.find((i) => i.balance_minor === amount);
    if (exact) push({ kind: 'customer_amount', customerId: c.id, customer: c.name, allocations: [allocation(exact, amount)], unappliedMinor: 0, reason: `${cap(who)}, and ${exact.number} is open for exactly ${amountText}.` });
    for (const combo of exactCombinations(open, amount, (i) => i.balance_minor)) {
      push({ kind: 'several_invoices', customerId: c.id, customer: c.name, allocations: combo.map((i) => allocation(i, i.balance_minor)), unappliedMinor: 0, reason: `${cap(who)}, and ${combo.map((i) => i.number).join(' + ')} together are exactly ${amountText}.` });
    }
    if (open.length) {
      const plan = oldestFirst(open, amount);
      const parts = plan.allocations.map((a) => (a.amountMinor === a.balanceMinor ? `${a.invoice} in full` : `${a.invoice} in part (${money(a.amountMinor, e.currency)} of ${money(a.balanceMinor, e.currency)})`));
      push({ kind: 'oldest_first', customerId: c.id, customer: c.name, allocations: plan.allocations, unappliedMinor: plan.unapplied, reason: `${cap(who)}; ${amountText} pays their oldest invoices first: ${parts.join(', ')}${plan.unapplied > 0 ? `, and ${money(plan.unapplied, e.currency)} stays on account` : ''}.` });
    } else {
      push({ kind: 'oldest_first', customerId: c.id, customer: c.name, allocations: [], unappliedMinor: amount, reason: `${cap(who)}, who has nothing open: keep ${amountText} on their account.` });
    }
  }

  // 3. Anyone's untouched invoice of exactly the amount, when the payer is not known.
  if (!out.some((s) => s.kind === 'customer_amount' || s.kind === 'several_invoices')) {
    const balances = reads.sameAmount.get(`${e.currency}:${amount}`) ?? [];
    for (const i of balances.filter((b) => b.balance_minor === amount)) {
      push({ kind: 'exact_amount', customerId: i.customer_id, customer: await nameOf(i.customer_id), allocations: [allocation(i, amount)], unappliedMinor: 0, reason: `${i.number} of ${await nameOf(i.customer_id)} is open for exactly ${amountText} (due ${i.due_date}); the payer is not on file.` });
    }
  }
  return out.slice(0, MAX_SUGGESTIONS);
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** How many lines share one set of reads (a page is one; the CSV of every line reads in steps). */
const READ_CHUNK = 50;

/** The unmatched lines, oldest booking first, paged in SQL, each credit with its suggestions, read for the page's lines together. */
export async function unmatchedLines(core: Core, options: { from?: number; limit?: number } = {}): Promise<{ total: number; from: number; lines: UnmatchedLine[] }> {
  const db = core.db.kysely;
  const from = Math.max(0, Math.floor(options.from ?? 0));
  const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 20)), 100_000);
  const [count, rows] = await Promise.all([
    db.selectFrom('bank_entries').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'unmatched').executeTakeFirstOrThrow(),
    db.selectFrom('bank_entries').selectAll().where('status', '=', 'unmatched').orderBy('booking_date').orderBy('id').offset(from).limit(limit).execute(),
  ]);
  const lines: UnmatchedLine[] = [];
  for (let k = 0; k < rows.length; k += READ_CHUNK) {
    const chunk = rows.slice(k, k + READ_CHUNK);
    const reads = await pageReads(core, chunk);
    for (const r of chunk) {
      lines.push({
      id: r.id, key: r.entry_key, statementId: r.statement_id, entryRef: r.entry_ref, direction: r.direction, amountMinor: Number(r.amount_minor), currency: r.currency, bookingDate: r.booking_date,
      payerName: r.payer_name, payerIban: r.payer_iban, remittance: r.remittance, returnReason: r.return_reason, customerId: r.customer_id, suggestions: await suggestionsWith(core, r, reads),
      });
    }
  }
  return { total: Number(count.n), from, lines };
}

export interface ApplyEntryInput {
  /** Whose money it is; needed when nothing is applied, else taken from the invoices. */
  customerId?: number | string | null;
  /** Invoice number (or old-system number) and decimal amount; empty: keep it all unapplied. */
  allocations: { invoice: string; amount: string | number }[];
}

/**
 * Settles an unmatched credit line as a person decides: its payment is recorded for the
 * customer with exactly these allocations (the rest unapplied, on the customer's account),
 * and the line is matched to it — one change, under the customer's lock, with the line
 * read and checked under a row lock, so two people settling the same line at once record
 * one payment and the second is told it is already matched.
 */
export async function applyEntry(core: Core, entryId: number | string, input: ApplyEntryInput, actor: string): Promise<{ entryId: number; paymentId: number; customerId: number; appliedMinor: number; unappliedMinor: number }> {
  const id = requireId(entryId, 'entry');
  const db = core.db.kysely;
  const entry = await db.selectFrom('bank_entries').selectAll().where('id', '=', id).executeTakeFirst();
  if (!entry) throw notFound('bank entry', id);
  if (entry.direction !== 'credit') throw badTransition('bank entry', id, entry.status, 'matched', 'only a credit entry is applied to invoices');
  if (!Array.isArray(input.allocations) || input.allocations.length > 50) throw invalid('allocations must be a list of at most 50 invoices', { field: 'allocations', rule: 'max_items' });
  const wanted = input.allocations.map((a, n) => ({ number: requireText(a.invoice, `allocations.${n}.invoice`, 100), amountMinor: parsePositiveAmount(a.amount, entry.currency, `allocations.${n}.amount`) }));
  const invoices: InvoiceRow[] = [];
  for (const [n, w] of wanted.entries()) {
    const inv = await db.selectFrom('invoices').selectAll().where((eb) => eb.or([eb('number', 'in', [w.number, w.number.toUpperCase()]), eb('external_ref', '=', w.number)])).executeTakeFirst();
    if (!inv) throw invalid(`allocation ${n + 1}: there is no invoice ${w.number}`, { field: `allocations.${n}.invoice`, value: w.number, rule: 'exists' });
    if (inv.currency !== entry.currency) throw invalid(`allocation ${n + 1}: invoice ${inv.number} is in ${inv.currency}, the bank line in ${entry.currency}`, { field: `allocations.${n}.invoice`, value: w.number, rule: 'currency_match' });
    invoices.push(inv);
  }
  const owners = [...new Set(invoices.map((i) => i.customer_id))];
  if (owners.length > 1) throw invalid('the invoices of one bank line must belong to one customer', { field: 'allocations.1.invoice', value: invoices[1]!.number, rule: 'one_customer' });
  const given = input.customerId === undefined || input.customerId === null || input.customerId === '' ? null : requireId(input.customerId, 'customerId');
  if (given !== null && owners.length === 1 && owners[0] !== given) throw invalid(`invoice ${invoices[0]!.number} is not customer ${given}'s`, { field: 'allocations.0.invoice', value: invoices[0]!.number, rule: 'one_customer' });
  const customerId = owners[0] ?? given;
  if (customerId === null) throw invalid('choose the customer whose account keeps the money', { field: 'customerId', rule: 'required' });

  const pay = recordPaymentChange({
    customerId, amount: formatAmount(Number(entry.amount_minor), entry.currency), currency: entry.currency, date: entry.booking_date, method: BANK_ACTOR_METHOD,
    reference: entry.remittance, payer: entry.payer_name, externalId: entry.entry_key,
    allocations: invoices.map((inv, n) => ({ invoiceId: inv.id, amountMinor: wanted[n]!.amountMinor })),
  });
  return runChange(core, actor, async (scope) => {
    await lockCustomer(scope, customerId);
    const line = await forUpdate(scope.trx.selectFrom('bank_entries').selectAll().where('id', '=', id), scope.dialect).executeTakeFirstOrThrow();
    if (line.status !== 'unmatched') throw conflict(`bank line ${id} is already ${line.status}${line.payment_id ? ` (payment ${line.payment_id})` : ''}`, { entity: 'bank_entry', id, rule: 'already_matched' });
    const payment = await pay(scope);
    if (!payment.result.created) throw conflict(`bank line ${id} was already booked as payment ${payment.result.id}`, { entity: 'bank_entry', id, rule: 'already_matched' });
    const updated = await scope.trx
      .updateTable('bank_entries')
      .set({ status: 'matched', match_rule: 'manual', customer_id: customerId, invoice_id: invoices[0]?.id ?? null, payment_id: payment.result.id, updated_at: scope.at })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return {
      result: { entryId: id, paymentId: payment.result.id, customerId, appliedMinor: payment.result.appliedMinor, unappliedMinor: payment.result.unappliedMinor },
      events: [...payment.events, { type: 'bank_entry.matched', aggregate: 'bank_entry', id, after: { bank_entries: [updated] } }],
    };
  });
}
