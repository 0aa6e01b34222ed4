import fs from 'node:fs';
import path from 'node:path';
import type { Change, ChangeScope, Core } from '../core.ts';
import { lockCustomer, runChange } from '../core.ts';
import type { EventInput } from '../events/event.repository.ts';
import type { BankEntryRow, InvoiceRow } from '../db/schema.ts';
import { badTransition, conflict, DomainError, invalid, notFound } from '../shared/errors.ts';
import { formatAmount } from '../shared/money.ts';
import { displayMoney } from '../shared/figures.ts';
import { requireId, requireText, textProblem } from '../shared/validate.ts';
import { getSettings } from '../settings/settings.service.ts';
import { invoiceBalances } from '../invoicing/invoice.repository.ts';
import { recordPaymentChange, reversePaymentChange } from '../payments/payment.service.ts';
import { findEntryByKey, insertEntry, markEntryMatched, markEntryReversed } from './bank.repository.ts';
import { loadMapping } from '../extract/mapping.ts';
import { parseCamt053 } from './camt053.ts';
import { parseCsvBankStatement } from './csv-bank-statement.ts';
import { entryKey, remittanceText, type BankStatementEntry } from './bank-statement.ts';

export const BANK_ACTOR_METHOD = 'bank_transfer';

export interface BankEntry {
  id: number;
  key: string;
  statementId: string;
  entryRef: string;
  direction: 'credit' | 'debit';
  amountMinor: number;
  amount: string;
  currency: string;
  bookingDate: string;
  payerName: string | null;
  payerIban: string | null;
  remittance: string | null;
  endToEndId: string | null;
  returnReason: string | null;
  status: string;
  matchRule: string | null;
  customerId: number | null;
  invoiceNumber: string | null;
  paymentId: number | null;
}

export interface BankImportReport {
  file: string;
  format: 'camt.053' | 'csv';
  entries: number;
  /** Entries already imported before (a re-run): nothing written for them. */
  unchanged: number;
  matched: number;
  unmatched: number;
  reversed: number;
  ignored: number;
  /** Credits booked as payments, per currency. */
  credits: { currency: string; entries: number; amountMinor: number }[];
  results: { key: string; status: string; rule: string | null; invoiceNumber: string | null; paymentId: number | null; outcome: 'created' | 'unchanged' }[];
}

async function toEntry(core: Core, r: BankEntryRow): Promise<BankEntry> {
  const inv = r.invoice_id ? await core.db.kysely.selectFrom('invoices').select('number').where('id', '=', r.invoice_id).executeTakeFirst() : undefined;
  return {
    id: r.id, key: r.entry_key, statementId: r.statement_id, entryRef: r.entry_ref, direction: r.direction, amountMinor: Number(r.amount_minor), amount: formatAmount(Number(r.amount_minor), r.currency),
    currency: r.currency, bookingDate: r.booking_date, payerName: r.payer_name, payerIban: r.payer_iban, remittance: r.remittance, endToEndId: r.end_to_end_id, returnReason: r.return_reason,
    status: r.status, matchRule: r.match_rule, customerId: r.customer_id, invoiceNumber: inv?.number ?? null, paymentId: r.payment_id,
  };
}

/** Reads a statement file: camt.053 XML by content, anything else as CSV (with a mapping). */
export async function readStatement(core: Core, file: string, mappingFile?: string): Promise<{ format: 'camt.053' | 'csv'; entries: BankStatementEntry[] }> {
  if (!fs.existsSync(file)) throw invalid(`file ${file} does not exist`, { field: 'file', value: file, rule: 'file_exists' });
  const settings = await getSettings(core.db.kysely);
  // Checked before a byte is read: a statement is read whole, and a parsed camt.053 takes
  // about twelve times its size in memory.
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw invalid(`${file} is not a file`, { field: 'file', value: file, rule: 'file_exists' });
  const capMb = settings['bank.max_file_mb'];
  if (stat.size > capMb * 1024 * 1024) {
    throw invalid(`${path.basename(file)} is ${(stat.size / 1024 / 1024).toFixed(1)} MB (${stat.size} bytes), above the limit of ${capMb} MB for bank statement files (setting bank.max_file_mb)`, { field: 'file', value: stat.size, rule: 'max_file_size' });
  }
  const head = fs.readFileSync(file, { encoding: 'utf8' }).slice(0, 4096).replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('<')) return { format: 'camt.053', entries: parseCamt053(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''), path.basename(file)) };
  const mapping = mappingFile ? loadMapping(mappingFile, 'bank', ['bank_statement', 'statement'], file) : {};
  return { format: 'csv', entries: await parseCsvBankStatement(file, mapping, settings['company.currency']) };
}

const TOKEN_SPLIT = /[\s,;:/()[\]]+/;

/**
 * Invoices named in the remittance information: structured creditor references first, then
 * any word of the free text that is an invoice number (`INV-2026-000123`, `IMP-…`) or an
 * imported invoice's old-system number.
 */
export async function invoicesNamedIn(core: Core, e: Pick<BankStatementEntry, 'structuredRefs' | 'unstructured'>): Promise<InvoiceRow[]> {
  const tokens = [...new Set([...e.structuredRefs.map((s) => s.trim()), ...e.unstructured.flatMap((u) => u.split(TOKEN_SPLIT))].map((t) => t.replace(/[.]+$/, '')).filter((t) => t.length >= 3))].slice(0, 100);
  if (tokens.length === 0) return [];
  const upper = tokens.map((t) => t.toUpperCase());
  const rows = await core.db.kysely
    .selectFrom('invoices')
    .selectAll()
    .where((eb) => eb.or([eb('number', 'in', upper), eb('external_ref', 'in', tokens)]))
    .execute();
  const rank = (r: InvoiceRow) => {
    const i = upper.indexOf(r.number);
    return i >= 0 ? i : tokens.indexOf(r.external_ref ?? '');
  };
  return rows.sort((a, b) => rank(a) - rank(b));
}

/** The customer who sent the money: by the IBAN on file, else by exactly one customer of that name. */
export async function identifyPayer(core: Core, e: Pick<BankStatementEntry, 'payerIban' | 'payerName'>): Promise<{ id: number; currency: string } | null> {
  const db = core.db.kysely;
  if (e.payerIban) {
    const byIban = await db.selectFrom('customers').select(['id', 'currency']).where('iban', '=', e.payerIban).execute();
    if (byIban.length === 1) return byIban[0]!;
  }
  if (e.payerName) {
    const byName = await db.selectFrom('customers').select(['id', 'currency']).where((eb) => eb(eb.fn('lower', ['name']), '=', e.payerName!.trim().toLowerCase())).execute();
    if (byName.length === 1) return byName[0]!;
  }
  return null;
}

/** How a credit entry is settled: which customer, which invoice, by which rule (or null). */
async function matchCredit(core: Core, e: BankStatementEntry): Promise<{ customerId: number | null; invoice: InvoiceRow | null; rule: 'reference' | 'amount' | null }> {
  const named = (await invoicesNamedIn(core, e)).filter((i) => i.status !== 'cancelled');
  const first = named[0];
  if (first) {
    const customer = await core.db.kysely.selectFrom('customers').select(['id', 'currency']).where('id', '=', first.customer_id).executeTakeFirstOrThrow();
    if (customer.currency === e.currency) return { customerId: customer.id, invoice: first, rule: 'reference' };
  }
  const payer = await identifyPayer(core, e);
  if (!payer || payer.currency !== e.currency) return { customerId: payer?.id ?? null, invoice: null, rule: null };
  const open = await invoiceBalances(core.db.kysely, { customerId: payer.id, openOnly: true });
  const same = open.find((i) => i.balance_minor === e.amountMinor);
  return same ? { customerId: payer.id, invoice: same, rule: 'amount' } : { customerId: payer.id, invoice: null, rule: null };
}

/** The reference a payment carries so cash application pays `invoice` first. */
const referenceFor = (invoice: InvoiceRow, remittance: string | null) => `${invoice.external_ref ?? invoice.number}${remittance ? ` ${remittance}` : ''}`.slice(0, 500);

type EntryFields = Pick<BankEntryRow, 'status' | 'match_rule' | 'customer_id' | 'invoice_id' | 'payment_id'>;

/** What booking an entry moves beside the entry row: a payment recorded, or one reversed. */
interface EntryMoves {
  fields: EntryFields;
  events: EventInput[];
  /** The credit entry whose payment a return took back. */
  reversedEntryId?: number;
}

/**
 * Books one statement entry as one change: the entry row and what it moves (its payment,
 * or the reversal of one) commit together or not at all. `customerId` is whose money
 * moves: their lock is taken first, and the entry key is checked under it, so an entry
 * booked meanwhile (the same file imported twice at once) is left as it is.
 */
function bookEntry(e: BankStatementEntry, sourceFile: string, customerId: number | null, move: (scope: ChangeScope) => Promise<EntryMoves>): Change<{ row: BankEntryRow; created: boolean }> {
  const key = entryKey(e);
  return async (scope) => {
    const { trx, at } = scope;
    if (customerId !== null) await lockCustomer(scope, customerId);
    const booked = await findEntryByKey(trx, key);
    if (booked) return { result: { row: booked, created: false }, events: [], unchanged: true };
    const moved = await move(scope);
    const row = await insertEntry(trx, {
      entry_key: key, statement_id: e.statementId, entry_ref: e.entryRef, account_iban: e.accountIban, direction: e.direction, amount_minor: e.amountMinor, currency: e.currency,
      booking_date: e.bookingDate, value_date: e.valueDate, payer_name: e.payerName, payer_iban: e.payerIban, remittance: remittanceText(e), end_to_end_id: e.endToEndId, return_reason: e.returnReason,
      ...moved.fields, source_file: sourceFile, created_at: at, updated_at: at,
    });
    if (!row) {
      // Another import booked this entry after our check; with nothing else written ours is
      // simply not needed, otherwise the whole change rolls back.
      if (moved.events.length === 0) return { result: { row: (await findEntryByKey(trx, key))!, created: false }, events: [], unchanged: true };
      throw conflict(`bank entry ${key} was booked meanwhile by another import`, { entity: 'bank_entry', id: key, rule: 'concurrent_import' });
    }
    const rows = [row];
    if (moved.reversedEntryId !== undefined) rows.push(await markEntryReversed(trx, moved.reversedEntryId, at));
    return { result: { row, created: true }, events: [...moved.events, { type: `bank_entry.${row.status}`, aggregate: 'bank_entry', id: row.id, after: { bank_entries: rows } }] };
  };
}

const nothingMoves = (fields: EntryFields) => async (): Promise<EntryMoves> => ({ fields, events: [] });

/** The credit entry (and its payment) a returned debit names: same end-to-end id, else same payer IBAN and amount. */
async function findReturned(core: Core, e: BankStatementEntry): Promise<{ entry: BankEntryRow | null; paymentId: number | null }> {
  const db = core.db.kysely;
  if (e.endToEndId) {
    const entry = await db.selectFrom('bank_entries').selectAll().where('end_to_end_id', '=', e.endToEndId).where('direction', '=', 'credit').where('payment_id', 'is not', null).orderBy('id', 'desc').executeTakeFirst();
    if (entry) return { entry, paymentId: entry.payment_id };
    const payment = await db.selectFrom('payments').select('id').where('external_id', '=', e.endToEndId).executeTakeFirst();
    if (payment) return { entry: null, paymentId: payment.id };
  }
  if (e.payerIban) {
    const entry = await db
      .selectFrom('bank_entries')
      .selectAll()
      .where('payer_iban', '=', e.payerIban)
      .where('amount_minor', '=', e.amountMinor)
      .where('direction', '=', 'credit')
      .where('status', '=', 'matched')
      .where('payment_id', 'is not', null)
      .orderBy('booking_date', 'desc')
      .executeTakeFirst();
    if (entry) return { entry, paymentId: entry.payment_id };
  }
  return { entry: null, paymentId: null };
}

/**
 * The text rule of every field (src/shared/validate.ts), for each entry of a statement
 * whatever its format: no control characters (the remittance may keep tabs and line
 * breaks), no half surrogate pairs.
 */
function entryTextProblems(e: BankStatementEntry) {
  const fields: [string, string | null, boolean][] = [
    ['statement_id', e.statementId, false], ['entry_ref', e.entryRef, false], ['account_iban', e.accountIban, false], ['currency', e.currency, false],
    ['payer_name', e.payerName, true], ['payer_iban', e.payerIban, false], ['end_to_end_id', e.endToEndId, false], ['return_reason', e.returnReason, true],
    ...e.structuredRefs.map((r): [string, string, boolean] => ['remittance', r, false]), ...e.unstructured.map((u): [string, string, boolean] => ['remittance', u, true]),
  ];
  return fields.flatMap(([field, value, multiline]) => {
    const problem = value === null ? null : textProblem(value, multiline);
    return problem ? [{ entity: 'bank_entry', id: e.where, field, value, rule: problem.rule, message: `${e.where}: ${field} ${problem.message}` }] : [];
  });
}

/**
 * Imports a bank statement: each credit entry becomes a payment matched to an invoice (by the
 * invoice number in the remittance, else the payer's open invoice of the same amount), or
 * waits as unmatched; each returned debit reverses the payment it names; other debits (fees,
 * outgoing transfers) are kept as ignored. The whole file is checked before anything is
 * written; a re-import changes nothing (statement id + entry reference).
 */
export async function importBankStatement(core: Core, input: { file: string; mapping?: string; actor: string }): Promise<BankImportReport> {
  const { format, entries } = await readStatement(core, input.file, input.mapping);
  const today = core.clock.now().toISOString().slice(0, 10);
  const future = entries.filter((e) => e.bookingDate > today);
  if (future.length) {
    throw new DomainError('invalid', `${path.basename(input.file)}: ${future.length} entries are booked after today (${today}); nothing was written`, { field: 'booking_date', value: future[0]!.bookingDate, rule: 'not_future' }, future.map((e) => ({ entity: 'bank_entry', id: e.where, field: 'booking_date', value: e.bookingDate, rule: 'not_future', message: `${e.where}: booking date ${e.bookingDate} is after today` })));
  }
  const badText = entries.flatMap(entryTextProblems);
  if (badText.length) {
    const first = badText[0]!;
    throw new DomainError('invalid', `${path.basename(input.file)}: ${badText.length} values hold characters cashloop does not store (${first.message}); nothing was written`, first, badText);
  }
  const report: BankImportReport = { file: input.file, format, entries: entries.length, unchanged: 0, matched: 0, unmatched: 0, reversed: 0, ignored: 0, credits: [], results: [] };
  const credits = new Map<string, { entries: number; amountMinor: number }>();
  const sourceFile = path.basename(input.file);
  const db = core.db.kysely;
  for (const e of entries) {
    const key = entryKey(e);
    // A re-import finds its entries here and skips the matching; the check inside each
    // entry's change is the one that decides.
    const existing = await findEntryByKey(db, key);
    if (existing) {
      report.unchanged += 1;
      report.results.push({ key, status: existing.status, rule: existing.match_rule, invoiceNumber: (await toEntry(core, existing)).invoiceNumber, paymentId: existing.payment_id, outcome: 'unchanged' });
      continue;
    }
    let change: Change<{ row: BankEntryRow; created: boolean }>;
    let booksCredit = false;
    if (e.direction === 'credit') {
      const m = await matchCredit(core, e);
      if (m.invoice && m.customerId) {
        const { invoice, customerId, rule } = m;
        const pay = recordPaymentChange({ customerId, amount: formatAmount(e.amountMinor, e.currency), currency: e.currency, date: e.bookingDate, method: BANK_ACTOR_METHOD, reference: referenceFor(invoice, remittanceText(e)), payer: e.payerName, externalId: key });
        change = bookEntry(e, sourceFile, customerId, async (scope) => {
          const payment = await pay(scope);
          return { fields: { status: 'matched', match_rule: rule, customer_id: customerId, invoice_id: invoice.id, payment_id: payment.result.id }, events: payment.events };
        });
        booksCredit = true;
      } else {
        change = bookEntry(e, sourceFile, null, nothingMoves({ status: 'unmatched', match_rule: null, customer_id: m.customerId, invoice_id: null, payment_id: null }));
      }
    } else if (e.returnReason) {
      const found = await findReturned(core, e);
      const payment = found.paymentId ? await db.selectFrom('payments').selectAll().where('id', '=', found.paymentId).executeTakeFirst() : undefined;
      if (payment && payment.status === 'received' && payment.amount_minor === e.amountMinor) {
        const reverse = reversePaymentChange(payment.id, `returned by the bank: ${e.returnReason} (${key})`);
        change = bookEntry(e, sourceFile, payment.customer_id, async (scope) => {
          const reversal = await reverse(scope);
          return {
            fields: { status: 'matched', match_rule: 'return', customer_id: payment.customer_id, invoice_id: found.entry?.invoice_id ?? null, payment_id: payment.id },
            events: reversal.events,
            ...(found.entry ? { reversedEntryId: found.entry.id } : {}),
          };
        });
      } else {
        change = bookEntry(e, sourceFile, null, nothingMoves({ status: 'unmatched', match_rule: null, customer_id: payment?.customer_id ?? null, invoice_id: null, payment_id: null }));
      }
    } else {
      change = bookEntry(e, sourceFile, null, nothingMoves({ status: 'ignored', match_rule: null, customer_id: null, invoice_id: null, payment_id: null }));
    }
    const { row, created } = await runChange(core, input.actor, change);
    if (!created) {
      report.unchanged += 1;
      report.results.push({ key, status: row.status, rule: row.match_rule, invoiceNumber: (await toEntry(core, row)).invoiceNumber, paymentId: row.payment_id, outcome: 'unchanged' });
      continue;
    }
    if (booksCredit) {
      const s = credits.get(e.currency) ?? { entries: 0, amountMinor: 0 };
      credits.set(e.currency, { entries: s.entries + 1, amountMinor: s.amountMinor + e.amountMinor });
    }
    if (row.status === 'matched' && row.match_rule === 'return') report.reversed += 1;
    if (row.status === 'matched' && row.match_rule !== 'return') report.matched += 1;
    if (row.status === 'unmatched') report.unmatched += 1;
    if (row.status === 'ignored') report.ignored += 1;
    report.results.push({ key, status: row.status, rule: row.match_rule, invoiceNumber: (await toEntry(core, row)).invoiceNumber, paymentId: row.payment_id, outcome: 'created' });
  }
  report.credits = [...credits].map(([currency, s]) => ({ currency, ...s }));
  return report;
}

export async function listBankEntries(core: Core, options: { status?: string; limit?: number } = {}): Promise<BankEntry[]> {
  let q = core.db.kysely.selectFrom('bank_entries').selectAll().orderBy('booking_date').orderBy('id').limit(options.limit ?? 500);
  if (options.status) q = q.where('status', '=', options.status as BankEntryRow['status']);
  return Promise.all((await q.execute()).map((r) => toEntry(core, r)));
}

/** What is left to work by hand: credits nobody could match, returns whose payment was not found. */
export const listUnmatched = (core: Core) => listBankEntries(core, { status: 'unmatched' });

/**
 * Settles an unmatched credit entry by hand: records its payment for the invoice's customer
 * with the invoice number as reference (so cash application pays that invoice first).
 */
export async function matchEntry(core: Core, entryId: number | string, invoice: string, actor: string): Promise<BankEntry> {
  const id = requireId(entryId, 'entry');
  const number = requireText(invoice, 'invoice', 100);
  const db = core.db.kysely;
  const entry = await db.selectFrom('bank_entries').selectAll().where('id', '=', id).executeTakeFirst();
  if (!entry) throw notFound('bank entry', id);
  if (entry.direction !== 'credit') throw badTransition('bank entry', id, entry.status, 'matched', 'only a credit entry is matched to an invoice');
  if (entry.status !== 'unmatched') throw badTransition('bank entry', id, entry.status, 'matched', `it is already ${entry.status}`);
  const inv = await db.selectFrom('invoices').selectAll().where((eb) => eb.or([eb('number', '=', number), eb('external_ref', '=', number)])).executeTakeFirst();
  if (!inv) throw notFound('invoice', number);
  if (inv.currency !== entry.currency) {
    throw conflict(`bank entry ${id} is ${displayMoney(Number(entry.amount_minor), entry.currency)}; invoice ${inv.number} is in ${inv.currency}`, { entity: 'bank_entry', id, field: 'invoice', value: number, rule: 'currency_match' });
  }
  const pay = recordPaymentChange({ customerId: inv.customer_id, amount: formatAmount(Number(entry.amount_minor), entry.currency), currency: entry.currency, date: entry.booking_date, method: BANK_ACTOR_METHOD, reference: referenceFor(inv, entry.remittance), payer: entry.payer_name, externalId: entry.entry_key });
  // The payment and the match commit together: a match that loses a race records nothing.
  const row = await runChange(core, actor, async (scope) => {
    const payment = await pay(scope);
    const updated = await markEntryMatched(scope.trx, id, { customer_id: inv.customer_id, invoice_id: inv.id, payment_id: payment.result.id }, scope.at);
    if (!updated) throw conflict(`bank entry ${id} was matched meanwhile`, { entity: 'bank_entry', id, rule: 'concurrent_match' });
    return { result: updated, events: [...payment.events, { type: 'bank_entry.matched', aggregate: 'bank_entry', id, after: { bank_entries: [updated] } }] };
  });
  return toEntry(core, row);
}
