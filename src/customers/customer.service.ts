import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { CustomerRow, CustomerStatus, RiskClass } from '../db/schema.ts';
import { invalid, notFound, badTransition } from '../shared/errors.ts';
import { formatAmount, parseAmount, parseCurrency, parsePercent } from '../shared/money.ts';
import { oneOf, optionalText, pageOptions, requireId, requireInt, requireText } from '../shared/validate.ts';
import { getSettings } from '../settings/settings.service.ts';
import { findCustomer, findCustomerByExternalId, insertCustomer, listCustomerRows, searchCustomerRows } from './customer.repository.ts';

export interface CustomerInput {
  name: string;
  country?: string | null;
  segment?: string | null;
  currency?: string;
  paymentTermsDays?: number | string;
  /** Early-payment discount: percent off when paid within `earlyDiscountDays`. */
  earlyDiscountPercent?: string | number | null;
  earlyDiscountDays?: number | string | null;
  /** Decimal in the customer's currency, e.g. "10000" or "2500.50". */
  creditLimit?: string | number;
  riskClass?: RiskClass | null;
  salesRep?: string | null;
  email?: string | null;
  iban?: string | null;
  externalId?: string | null;
}

export interface Customer {
  id: number;
  externalId: string | null;
  name: string;
  country: string | null;
  segment: string | null;
  currency: string;
  paymentTermsDays: number;
  earlyDiscountDays: number | null;
  earlyDiscountBp: number | null;
  creditLimitMinor: number;
  creditLimit: string;
  riskClass: RiskClass | null;
  salesRep: string | null;
  email: string | null;
  iban: string | null;
  status: CustomerStatus;
  /** Collector who works this customer's receivables (collections). */
  collector: string | null;
  /** Dunning policy overriding the company default, if any. */
  dunningPolicy: string | null;
  createdAt: string;
  updatedAt: string;
}

export const RISK_CLASSES = ['A', 'B', 'C', 'D', 'E'] as const;

export function toCustomer(r: CustomerRow): Customer {
  return {
    id: r.id,
    externalId: r.external_id,
    name: r.name,
    country: r.country,
    segment: r.segment,
    currency: r.currency,
    paymentTermsDays: r.payment_terms_days,
    earlyDiscountDays: r.early_discount_days,
    earlyDiscountBp: r.early_discount_bp,
    creditLimitMinor: r.credit_limit_minor,
    creditLimit: formatAmount(r.credit_limit_minor, r.currency),
    riskClass: r.risk_class,
    salesRep: r.sales_rep,
    email: r.email,
    iban: r.iban,
    status: r.status,
    collector: r.collector,
    dunningPolicy: r.dunning_policy,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function normaliseIban(value: unknown): string | null {
  const text = optionalText(value, 'iban', 40);
  if (text === null) return null;
  const iban = text.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) throw invalid(`iban ${text} is not an IBAN`, { field: 'iban', value, rule: 'iban_format' });
  return iban;
}

/**
 * Creates a customer. With an `externalId` the call is idempotent: a second call with the
 * same external id returns the customer already there (imports re-run safely).
 */
export async function createCustomer(core: Core, input: CustomerInput, actor: string): Promise<Customer & { created: boolean }> {
  const settings = await getSettings(core.db.kysely);
  const currency = parseCurrency(input.currency ?? settings['company.currency']);
  const externalId = optionalText(input.externalId, 'externalId', 100);
  const row = {
    external_id: externalId,
    name: requireText(input.name, 'name'),
    country: optionalText(input.country, 'country', 60),
    segment: optionalText(input.segment, 'segment', 60),
    currency,
    payment_terms_days: requireInt(input.paymentTermsDays ?? 30, 'paymentTermsDays', 0, 365),
    early_discount_bp: input.earlyDiscountPercent == null || input.earlyDiscountPercent === '' ? null : parsePercent(input.earlyDiscountPercent, 'earlyDiscountPercent'),
    early_discount_days: input.earlyDiscountDays == null || input.earlyDiscountDays === '' ? null : requireInt(input.earlyDiscountDays, 'earlyDiscountDays', 0, 365),
    credit_limit_minor: parseAmount(input.creditLimit ?? '0', currency, 'creditLimit'),
    risk_class: input.riskClass == null ? null : oneOf(input.riskClass, 'riskClass', RISK_CLASSES),
    sales_rep: optionalText(input.salesRep, 'salesRep', 100),
    email: optionalText(input.email, 'email', 200),
    iban: normaliseIban(input.iban),
    status: 'active' as const,
  };
  if (row.credit_limit_minor < 0) throw invalid('creditLimit must not be negative', { field: 'creditLimit', value: input.creditLimit, rule: 'amount_not_negative' });
  if ((row.early_discount_bp === null) !== (row.early_discount_days === null)) {
    throw invalid('earlyDiscountPercent and earlyDiscountDays go together', { field: 'earlyDiscountDays', value: input.earlyDiscountDays, rule: 'discount_pair' });
  }
  if (externalId) {
    // A re-run import finds its customers here, without a write transaction.
    const existing = await findCustomerByExternalId(core.db.kysely, externalId);
    if (existing) return { ...toCustomer(existing), created: false };
  }
  return runChange<Customer & { created: boolean }>(core, actor, async ({ trx, at }) => {
    // Requests racing with one external id: the unique key lets one insert; the others
    // wait for it to commit, insert nothing, and answer with that customer.
    const created = await insertCustomer(trx, { ...row, created_at: at, updated_at: at });
    if (!created) {
      const existing = await findCustomerByExternalId(trx, externalId!);
      if (!existing) throw new Error(`customer ${externalId} was neither inserted nor found`);
      return { result: { ...toCustomer(existing), created: false }, events: [], unchanged: true };
    }
    return { result: { ...toCustomer(created), created: true }, events: [{ type: 'customer.created', aggregate: 'customer', id: created.id, after: { customers: [created] } }] };
  });
}

export async function getCustomer(core: Core, id: number | string): Promise<Customer> {
  const customerId = requireId(id, 'customerId');
  const row = await findCustomer(core.db.kysely, customerId);
  if (!row) throw notFound('customer', customerId);
  return toCustomer(row);
}

/** A customer's statuses, as lists filter by them (`?status=`, `--status`). */
export const CUSTOMER_STATUSES = ['active', 'blocked'] as const satisfies readonly CustomerStatus[];

export async function listCustomers(core: Core, options: { afterId?: number; limit?: number; status?: CustomerStatus } = {}): Promise<Customer[]> {
  const status = options.status === undefined ? undefined : oneOf(options.status, 'status', CUSTOMER_STATUSES);
  return (await listCustomerRows(core.db.kysely, { ...pageOptions(options), status })).map(toCustomer);
}

export const CUSTOMER_SEARCH_MAX = 64;

/** Whole numbers from text or a number, else the value itself (for the error). */
const wholeNumber = (value: unknown): unknown => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value);

/**
 * Finds customers by name, external id or id (the customer number), a page at a time: the
 * customer of that number first, then names that start with the text, then names and
 * external ids that contain it. `from` is the offset of the page (0, then `next`); `next` is
 * null on the last page. Empty text finds nothing.
 */
export async function searchCustomers(core: Core, text: unknown, options: { from?: unknown; limit?: unknown } = {}): Promise<{ customers: Customer[]; next: number | null }> {
  if (typeof text !== 'string') throw invalid('search text must be text', { field: 'q', value: text, rule: 'text' });
  const needle = text.trim().toLowerCase();
  if (needle.length > CUSTOMER_SEARCH_MAX) throw invalid(`search text is longer than ${CUSTOMER_SEARCH_MAX} characters`, { field: 'q', value: text, rule: 'max_length' });
  const limit = wholeNumber(options.limit ?? 8);
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 50) throw invalid(`limit must be a whole number from 1 to 50, got ${String(options.limit)}`, { field: 'limit', value: options.limit, rule: 'range' });
  const from = wholeNumber(options.from ?? 0);
  if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) throw invalid(`from must be a whole number, 0 or more, got ${String(options.from)}`, { field: 'from', value: options.from, rule: 'non_negative_integer' });
  if (needle === '') return { customers: [], next: null };
  // LIKE's own wildcards in the text are searched for as themselves.
  const escaped = needle.replace(/[\\%_]/g, (c) => `\\${c}`);
  const id = /^\d{1,9}$/.test(needle) ? Number(needle) : null;
  const rows = await searchCustomerRows(core.db.kysely, escaped, id, from, limit + 1);
  return { customers: rows.slice(0, limit).map(toCustomer), next: rows.length > limit ? from + limit : null };
}

export type CustomerChanges = Partial<Omit<CustomerInput, 'currency' | 'externalId'>>;

/** Changes terms, limit and contact data of a customer (the currency stays). */
export async function updateCustomer(core: Core, id: number | string, changes: CustomerChanges, actor: string): Promise<Customer> {
  const customerId = requireId(id, 'customerId');
  return runChange(core, actor, async ({ trx, at }) => {
    const current = await findCustomer(trx, customerId);
    if (!current) throw notFound('customer', customerId);
    const set: Partial<CustomerRow> = { updated_at: at };
    if (changes.name !== undefined) set.name = requireText(changes.name, 'name');
    if (changes.country !== undefined) set.country = optionalText(changes.country, 'country', 60);
    if (changes.segment !== undefined) set.segment = optionalText(changes.segment, 'segment', 60);
    if (changes.paymentTermsDays !== undefined) set.payment_terms_days = requireInt(changes.paymentTermsDays, 'paymentTermsDays', 0, 365);
    if (changes.creditLimit !== undefined) {
      set.credit_limit_minor = parseAmount(changes.creditLimit, current.currency, 'creditLimit');
      if (set.credit_limit_minor < 0) throw invalid('creditLimit must not be negative', { field: 'creditLimit', value: changes.creditLimit, rule: 'amount_not_negative' });
    }
    if (changes.riskClass !== undefined) set.risk_class = changes.riskClass === null ? null : oneOf(changes.riskClass, 'riskClass', RISK_CLASSES);
    if (changes.salesRep !== undefined) set.sales_rep = optionalText(changes.salesRep, 'salesRep', 100);
    if (changes.email !== undefined) set.email = optionalText(changes.email, 'email', 200);
    if (changes.iban !== undefined) set.iban = normaliseIban(changes.iban);
    const updated = await trx.updateTable('customers').set(set).where('id', '=', customerId).returningAll().executeTakeFirstOrThrow();
    return { result: toCustomer(updated), events: [{ type: 'customer.updated', aggregate: 'customer', id: customerId, after: { customers: [updated] } }] };
  });
}

/** Blocks or re-activates a customer; a blocked customer's orders go on credit hold. */
export async function setCustomerStatus(core: Core, id: number | string, status: CustomerStatus, reason: string, actor: string): Promise<Customer> {
  const customerId = requireId(id, 'customerId');
  const why = requireText(reason, 'reason');
  return runChange(core, actor, async ({ trx, at }) => {
    const current = await findCustomer(trx, customerId);
    if (!current) throw notFound('customer', customerId);
    if (current.status === status) throw badTransition('customer', customerId, current.status, status, `customer is already ${status}`);
    const updated = await trx.updateTable('customers').set({ status, updated_at: at }).where('id', '=', customerId).returningAll().executeTakeFirstOrThrow();
    return {
      result: toCustomer(updated),
      events: [{ type: status === 'blocked' ? 'customer.blocked' : 'customer.activated', aggregate: 'customer', id: customerId, after: { customers: [updated], reason: why } }],
    };
  });
}
