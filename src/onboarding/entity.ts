/**
 * What every onboarding entity shares: the list of entities, the context a file's rows are
 * checked and loaded in, the shape of an entity's spec, and the row rules several entities
 * apply (a row's id seen before, the customer a row names). One file per entity holds its own
 * spec (`customers.entity.ts`, `products.entity.ts`, `orders.entity.ts`, `invoices.entity.ts`,
 * `payments.entity.ts`); `entities.ts` lists them.
 */
import type { Core } from '../core.ts';
import type { RowFields } from '../extract/fields.ts';
import { CATCH_ALL_CUSTOMER, textMax } from '../extract/contract.ts';
import type { IdSet } from './id-set.ts';

export const ENTITIES = ['customers', 'products', 'orders', 'invoices', 'payments'] as const;
export type Entity = (typeof ENTITIES)[number];

/** `method` of payments written by the import: file rows, and the settlements DESIGN.md implies. */
export const IMPORT_METHOD = 'import';
export const SETTLEMENT_METHOD = 'import_settlement';

export interface ImportContext {
  core: Core;
  actor: string;
  /** Business date of the core's clock: payments cannot be dated after it. */
  today: string;
  companyCurrency: string;
  /** external id → customer (or null: not there); holds one entry per customer named. */
  customers: Map<string, { id: number; currency: string } | null>;
  /** Ids seen in this file, to reject duplicates. */
  seen: IdSet;
  /** Id and content of the rows seen in this file: a row repeated exactly counts once. */
  seenRows: IdSet;
  /**
   * Rows naming a customer that neither the customers file nor cashloop has get a stand-in
   * customer (external id → its currency), created before the load; rows with a blank
   * customer id get the catch-all customer (`UNKNOWN`) the same way when cashloop lacks it.
   */
  standIns: Map<string, string>;
  /** Orders import: the order whose lines are being read (lines of an order come together); line number → the line's content. */
  group: { key: string; customerId: number | null; orderDate: string | null; lineNos: Map<number, string>; totalMinor: number } | null;
  /** Orders import: product code → product (or null: not there). */
  products: Map<string, { id: number } | null>;
  /** A dry run over a folder: what earlier files of the folder would have created. */
  pending: DryRunMemory | null;
  /** Payments import: per invoice named by new rows, what those rows pay of it. */
  covered: Map<number, number>;
}

/**
 * What a dry run of a folder remembers from one file for the next: the customers and
 * products it would create (with stand-in negative ids) and the invoices (by ref + customer).
 */
export interface DryRunMemory {
  customers: Map<string, { id: number; currency: string } | null>;
  products: Map<string, { id: number } | null>;
  invoices: IdSet;
  nextId: number;
}

export type LoadOutcome = 'created' | 'unchanged';

export interface EntitySpec<T> {
  entity: Entity;
  columns: readonly string[];
  required: readonly string[];
  idColumn: string;
  /** How many times the load streams the file (payments: rows naming an invoice first). */
  phases: number;
  /**
   * Validates one row; null when it has problems (they are on `f`). `repeated`: the row is
   * an exact repeat of an earlier one (same id, same values): it counts once and loads nothing.
   */
  check(f: RowFields, ctx: ImportContext): Promise<{ record: T; exists: boolean; repeated?: boolean } | null>;
  amount?(r: T): { currency: string; minor: number };
  customerOf?(r: T): number;
  beforeLoad?(ctx: ImportContext): Promise<void>;
  /** Dry run of a folder: notes a valid row so later files can refer to it. */
  remember?(memory: DryRunMemory, r: T): void;
  /** Rows sharing this column's value are one document, validated and loaded together. */
  groupBy?: string;
  loadGroup?(ctx: ImportContext, records: T[]): Promise<LoadOutcome>;
  /** Writes one valid row in `phase`; `skip` when the row belongs to another phase. */
  load(ctx: ImportContext, r: T, phase: number): Promise<LoadOutcome | 'skip'>;
}

export async function customerByExternalId(ctx: ImportContext, externalId: string) {
  if (!ctx.customers.has(externalId)) {
    const c = await ctx.core.db.kysely.selectFrom('customers').select(['id', 'currency']).where('external_id', '=', externalId).executeTakeFirst();
    ctx.customers.set(externalId, c ?? null);
  }
  return ctx.customers.get(externalId) ?? null;
}

/** What a row says, in one string: its canonical values, so a repeat with the same values is known. */
export function contentOf(f: RowFields, columns: readonly string[]): string {
  return JSON.stringify(columns.map((c) => f.raw(c)));
}

/**
 * Whether the row's id appeared earlier in the file: 'repeat' when the earlier row said the
 * same (one row written twice: it counts once), 'conflict' when it said something else (a
 * problem on the row, rule `duplicate_id`), else 'new'.
 */
export function duplicate(f: RowFields, ctx: ImportContext, column: string, id: string | null, columns: readonly string[]): 'new' | 'repeat' | 'conflict' {
  if (id === null) return 'new';
  const content = `${id}\u0000${contentOf(f, columns)}`;
  const fresh = ctx.seen.add(id);
  const freshContent = ctx.seenRows.add(content);
  if (fresh) return 'new';
  if (!freshContent) return 'repeat';
  f.problem(column, id, 'duplicate_id', `${column} ${id} appears more than once in the file with other values`);
  return 'conflict';
}

/** The answer for a row repeated exactly: accepted, counted once, nothing loaded. */
export const REPEATED = { record: null as never, exists: true, repeated: true };

/**
 * The customer a row names (docs/extract.md, the same rules as the warehouse ingest): a blank
 * id is the catch-all customer's; an id neither the customers file nor cashloop has gets a
 * stand-in customer in the row's currency (else the company's), created before the load.
 */
export async function knownCustomer(f: RowFields, ctx: ImportContext, currencyColumn = 'currency') {
  const externalId = f.raw('customer_id') === '' ? CATCH_ALL_CUSTOMER.id : f.text('customer_id', { required: true, max: textMax('invoices', 'customer_id') });
  if (externalId === null) return null;
  let customer = await customerByExternalId(ctx, externalId);
  if (!customer) {
    const currency = f.currency(currencyColumn, ctx.companyCurrency);
    if (!currency) return null;
    ctx.standIns.set(externalId, currency);
    // A dry run over a folder numbers what it would create once for all its files.
    customer = { id: ctx.pending ? -++ctx.pending.nextId : -(ctx.standIns.size + 1_000_000_000), currency };
    ctx.customers.set(externalId, customer);
  }
  const currency = f.currency(currencyColumn, customer.currency);
  if (currency && currency !== customer.currency) {
    f.problem(currencyColumn, currency, 'currency_match', `currency ${currency} does not match customer ${externalId}, who is invoiced in ${customer.currency}`);
    return null;
  }
  return { externalId, ...customer };
}
