import type { Core } from '../core.ts';
import { createCustomer } from '../customers/customer.service.ts';
import { createProduct, findProductBySku } from '../catalog/product.service.ts';
import { importHistoricalInvoice } from '../invoicing/invoice-import.service.ts';
import { importHistoricalOrder } from '../orders/order-import.service.ts';
import { recordPayment, reversePayment } from '../payments/payment.service.ts';
import { formatAmount, formatMoney } from '../shared/money.ts';
import { MAX_AMOUNT_MINOR, MAX_QUANTITY } from '../shared/bounds.ts';
import type { RowFields } from '../extract/fields.ts';
import { nextSku, skuOf } from '../extract/values.ts';
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

async function customerByExternalId(ctx: ImportContext, externalId: string) {
  if (!ctx.customers.has(externalId)) {
    const c = await ctx.core.db.kysely.selectFrom('customers').select(['id', 'currency']).where('external_id', '=', externalId).executeTakeFirst();
    ctx.customers.set(externalId, c ?? null);
  }
  return ctx.customers.get(externalId) ?? null;
}

/** What a row says, in one string: its canonical values, so a repeat with the same values is known. */
function contentOf(f: RowFields, columns: readonly string[]): string {
  return JSON.stringify(columns.map((c) => f.raw(c)));
}

/**
 * Whether the row's id appeared earlier in the file: 'repeat' when the earlier row said the
 * same (one row written twice: it counts once), 'conflict' when it said something else (a
 * problem on the row, rule `duplicate_id`), else 'new'.
 */
function duplicate(f: RowFields, ctx: ImportContext, column: string, id: string | null, columns: readonly string[]): 'new' | 'repeat' | 'conflict' {
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
const REPEATED = { record: null as never, exists: true, repeated: true };

/**
 * The customer a row names (docs/extract.md, the same rules as the warehouse ingest): a blank
 * id is the catch-all customer's; an id neither the customers file nor cashloop has gets a
 * stand-in customer in the row's currency (else the company's), created before the load.
 */
async function knownCustomer(f: RowFields, ctx: ImportContext, currencyColumn = 'currency') {
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

// --- customers -------------------------------------------------------------------------

export interface CustomerRecord {
  externalId: string;
  name: string;
  country: string | null;
  segment: string | null;
  currency: string;
  creditLimit: string;
  paymentTermsDays: number;
  email: string | null;
  iban: string | null;
}

const customers: EntitySpec<CustomerRecord> = {
  entity: 'customers',
  columns: ['customer_id', 'name', 'country', 'segment', 'currency', 'credit_limit', 'payment_terms_days', 'email', 'iban'],
  required: ['customer_id'],
  idColumn: 'customer_id',
  phases: 1,
  async check(f, ctx) {
    const externalId = f.text('customer_id', { required: true, max: textMax('customers', 'customer_id') });
    const seen = duplicate(f, ctx, 'customer_id', externalId, this.columns);
    if (seen === 'repeat') return REPEATED;
    if (seen === 'conflict') return null;
    const currency = f.currency('currency', ctx.companyCurrency);
    const limit = currency ? f.amount('credit_limit', currency, { sign: 'not_negative' }) : null;
    const terms = f.int('payment_terms_days', 0, 365);
    const name = f.text('name', { max: textMax('customers', 'name') }) ?? externalId;
    const country = f.text('country', { max: textMax('customers', 'country') });
    const segment = f.text('segment', { max: textMax('customers', 'segment') });
    const email = f.text('email', { max: textMax('customers', 'email') });
    const ibanText = f.text('iban', { max: textMax('customers', 'iban') });
    const iban = ibanText?.replace(/\s+/g, '').toUpperCase() ?? null;
    if (iban && !/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) f.problem('iban', ibanText!, 'iban_format', `iban ${ibanText} is not an IBAN`);
    if (f.problems.length || !externalId || !currency) return null;
    const existing = await customerByExternalId(ctx, externalId);
    if (existing && existing.currency !== currency) {
      f.problem('currency', currency, 'currency_match', `customer ${externalId} is already in cashloop with currency ${existing.currency}`);
      return null;
    }
    return {
      record: { externalId, name: name!, country, segment, currency, creditLimit: formatAmount(limit ?? 0, currency), paymentTermsDays: terms ?? 30, email, iban },
      exists: existing !== null,
    };
  },
  remember(memory, r) {
    if (!memory.customers.get(r.externalId)) memory.customers.set(r.externalId, { id: -++memory.nextId, currency: r.currency });
  },
  async load(ctx, r) {
    const c = await createCustomer(ctx.core, { ...r }, ctx.actor);
    ctx.customers.set(r.externalId, { id: c.id, currency: c.currency });
    return c.created ? 'created' : 'unchanged';
  },
};

// --- products --------------------------------------------------------------------------

export interface ProductRecord {
  /** The product's code in the extract, kept as written; cashloop's SKU is made from it at load. */
  code: string;
  name: string;
  category: string | null;
  currency: string;
  price: string;
  unitCost: string;
}

const products: EntitySpec<ProductRecord> = {
  entity: 'products',
  columns: ['product_id', 'name', 'category', 'unit_price', 'unit_cost', 'currency'],
  required: ['product_id'],
  idColumn: 'product_id',
  phases: 1,
  async check(f, ctx) {
    // Any spelling is a product code (`BANK CHARGES`, `post`, `C2`): kept as the external code.
    const code = f.text('product_id', { required: true, max: textMax('products', 'product_id') });
    const seen = duplicate(f, ctx, 'product_id', code, this.columns);
    if (seen === 'repeat') return REPEATED;
    if (seen === 'conflict') return null;
    const currency = f.currency('currency', ctx.companyCurrency);
    const price = currency ? f.amount('unit_price', currency, { sign: 'not_negative' }) : null;
    const cost = currency ? f.amount('unit_cost', currency, { sign: 'not_negative' }) : null;
    const name = f.text('name', { max: textMax('products', 'name') }) ?? code;
    const category = f.text('category', { max: textMax('products', 'category') });
    if (f.problems.length || !code || !currency) return null;
    const existing = await productByCode(ctx, code);
    return { record: { code, name: name!, category, currency, price: formatAmount(price ?? 0, currency), unitCost: formatAmount(cost ?? 0, currency) }, exists: existing !== null };
  },
  remember(memory, r) {
    if (!memory.products.get(r.code)) memory.products.set(r.code, { id: -++memory.nextId });
  },
  async load(ctx, r) {
    ctx.products.delete(r.code);
    if (await productByCode(ctx, r.code)) return 'unchanged';
    // The SKU: the code in cashloop's spelling; a code meeting another on it gets the next number.
    const base = skuOf(r.code);
    let sku = base;
    for (let n = 2; await findProductBySku(ctx.core.db.kysely, sku); n += 1) sku = nextSku(base, n);
    const { code, ...rest } = r;
    const p = await createProduct(ctx.core, { ...rest, sku, externalCode: code }, ctx.actor);
    ctx.products.set(code, { id: p.id });
    return 'created';
  },
};

/**
 * The product an extract's code names: the one imported with that external code, else one
 * whose SKU is the code (a product made in cashloop, or imported before codes were kept).
 */
async function productByCode(ctx: ImportContext, code: string): Promise<{ id: number } | null> {
  if (!ctx.products.has(code)) {
    const db = ctx.core.db.kysely;
    const hit =
      (await db.selectFrom('products').select('id').where('external_code', '=', code).executeTakeFirst()) ??
      (await db.selectFrom('products').select('id').where('sku', '=', code).where('external_code', 'is', null).executeTakeFirst());
    ctx.products.set(code, hit ?? null);
  }
  return ctx.products.get(code) ?? null;
}

// --- orders (order lines) -----------------------------------------------------------

export interface OrderLineRecord {
  externalId: string;
  lineNo: number;
  customerId: number;
  currency: string;
  orderDate: string;
  productId: number;
  quantity: number;
  unitPriceMinor: number;
}

const orders: EntitySpec<OrderLineRecord> = {
  entity: 'orders',
  columns: ['order_id', 'line_no', 'customer_id', 'order_date', 'product_id', 'quantity', 'unit_price', 'currency'],
  required: ['order_id', 'line_no', 'customer_id', 'order_date', 'product_id', 'quantity', 'unit_price'],
  idColumn: 'order_id',
  phases: 1,
  groupBy: 'order_id',
  async check(f, ctx) {
    const externalId = f.text('order_id', { required: true, max: textMax('order_lines', 'order_id') });
    if (externalId !== null && ctx.group?.key !== externalId) {
      if (!ctx.seen.add(externalId)) f.problem('order_id', externalId, 'order_lines_together', `order_id ${externalId} appeared earlier in the file: the lines of an order must follow each other`);
      ctx.group = { key: externalId, customerId: null, orderDate: null, lineNos: new Map(), totalMinor: 0 };
    }
    const lineNo = f.int('line_no', 1, 100_000);
    if (lineNo === null && !f.raw('line_no')) f.problem('line_no', '', 'required', 'line_no is required');
    // A line written twice with the same values is one line: it counts once.
    if (lineNo !== null && ctx.group?.key === externalId && ctx.group.lineNos.get(lineNo) === contentOf(f, this.columns)) return REPEATED;
    const customer = await knownCustomer(f, ctx);
    const orderDate = f.date('order_date', { required: true });
    const code = f.text('product_id', { required: true, max: textMax('order_lines', 'product_id') });
    let productId: number | null = null;
    if (code !== null) {
      productId = (await productByCode(ctx, code))?.id ?? null;
      if (productId === null) f.problem('product_id', code, 'unknown_product', `product_id ${code} is not a product in cashloop (import products first)`);
    }
    const quantity = f.int('quantity', 1, MAX_QUANTITY);
    if (quantity === null && !f.raw('quantity')) f.problem('quantity', '', 'required', 'quantity is required');
    const price = customer ? f.amount('unit_price', customer.currency, { required: true, sign: 'not_negative' }) : null;
    const g = ctx.group;
    if (quantity !== null && price !== null) {
      // Both are bounded, so the product is exact below 10^22 in BigInt and the running total
      // (of lines each at most the maximum) stays exact as a number until it passes it.
      const line = BigInt(quantity) * BigInt(price);
      const orderTotal = g && externalId === g.key ? g.totalMinor + Number(line) : Number(line);
      if (line > BigInt(MAX_AMOUNT_MINOR) || orderTotal > MAX_AMOUNT_MINOR) {
        f.problem('quantity', f.raw('quantity'), 'amount_max', `quantity ${quantity} × unit_price ${f.raw('unit_price')} takes ${line > BigInt(MAX_AMOUNT_MINOR) ? 'the line' : `order ${externalId}`} above the largest amount cashloop holds (${formatAmount(MAX_AMOUNT_MINOR, customer!.currency)} ${customer!.currency})`);
      } else if (g && externalId === g.key) {
        g.totalMinor = orderTotal;
      }
    }
    if (g && externalId === g.key) {
      if (lineNo !== null && g.lineNos.has(lineNo)) f.problem('line_no', String(lineNo), 'duplicate_id', `line_no ${lineNo} appears twice in order ${externalId} with other values`);
      if (lineNo !== null && !g.lineNos.has(lineNo)) g.lineNos.set(lineNo, contentOf(f, this.columns));
      if (customer && g.customerId !== null && g.customerId !== customer.id) f.problem('customer_id', customer.externalId, 'order_consistent', `customer_id ${customer.externalId} differs from the order's first line`);
      if (orderDate && g.orderDate !== null && g.orderDate !== orderDate) f.problem('order_date', orderDate, 'order_consistent', `order_date ${orderDate} differs from the order's first line (${g.orderDate})`);
      if (customer && g.customerId === null) g.customerId = customer.id;
      if (orderDate && g.orderDate === null) g.orderDate = orderDate;
    }
    if (f.problems.length || !externalId || lineNo === null || !customer || !orderDate || productId === null || quantity === null || price === null) return null;
    const existing = await ctx.core.db.kysely.selectFrom('orders').select('id').where('external_id', '=', externalId).executeTakeFirst();
    return { record: { externalId, lineNo, customerId: customer.id, currency: customer.currency, orderDate, productId, quantity, unitPriceMinor: price }, exists: existing !== undefined };
  },
  amount: (r) => ({ currency: r.currency, minor: r.quantity * r.unitPriceMinor }),
  async load() {
    throw new Error('order lines are loaded per order (loadGroup)');
  },
  async loadGroup(ctx, lines) {
    const first = lines[0]!;
    const o = await importHistoricalOrder(ctx.core, { customerId: first.customerId, externalId: first.externalId, orderDate: first.orderDate, currency: first.currency, lines }, ctx.actor);
    return o.created ? 'created' : 'unchanged';
  },
};

// --- invoices --------------------------------------------------------------------------

export interface InvoiceRecord {
  externalRef: string;
  customerId: number;
  currency: string;
  invoiceDate: string;
  dueDate: string;
  amountMinor: number;
  disputed: boolean;
  settledDate: string | null;
}

const invoices: EntitySpec<InvoiceRecord> = {
  entity: 'invoices',
  columns: ['invoice_id', 'customer_id', 'invoice_date', 'due_date', 'amount', 'currency', 'disputed', 'settled_date'],
  required: ['invoice_id', 'customer_id', 'invoice_date', 'due_date', 'amount'],
  idColumn: 'invoice_id',
  phases: 1,
  async check(f, ctx) {
    const ref = f.text('invoice_id', { required: true, max: textMax('invoices', 'invoice_id') });
    const seen = duplicate(f, ctx, 'invoice_id', ref, this.columns);
    if (seen === 'repeat') return REPEATED;
    if (seen === 'conflict') return null;
    const customer = await knownCustomer(f, ctx);
    const invoiceDate = f.date('invoice_date', { required: true });
    const dueDate = f.date('due_date', { required: true });
    const settledDate = f.date('settled_date');
    // A zero-amount invoice (free of charge) is a document like any other: it is paid on its date.
    const amount = customer ? f.amount('amount', customer.currency, { required: true, sign: 'not_negative' }) : null;
    const disputed = f.bool('disputed');
    if (invoiceDate && dueDate && dueDate < invoiceDate) f.problem('due_date', dueDate, 'due_after_invoice_date', `due_date ${dueDate} is before invoice_date ${invoiceDate}`);
    if (invoiceDate && settledDate && settledDate < invoiceDate) f.problem('settled_date', settledDate, 'settled_after_invoice_date', `settled_date ${settledDate} is before invoice_date ${invoiceDate}`);
    if (settledDate && settledDate > ctx.today) f.problem('settled_date', settledDate, 'not_future', `settled_date ${settledDate} is after today (${ctx.today})`);
    if (f.problems.length || !ref || !customer || !invoiceDate || !dueDate || amount === null) return null;
    const existing = await ctx.core.db.kysely.selectFrom('invoices').select(['number', 'customer_id', 'total_minor']).where('external_ref', '=', ref).executeTakeFirst();
    if (existing && (existing.customer_id !== customer.id || existing.total_minor !== amount)) {
      f.problem('invoice_id', ref, 'idempotent_retry', `invoice_id ${ref} is already in cashloop as ${existing.number} with another customer or amount (${formatMoney(existing.total_minor, customer.currency)})`);
      return null;
    }
    return {
      record: { externalRef: ref, customerId: customer.id, currency: customer.currency, invoiceDate, dueDate, amountMinor: amount, disputed: disputed ?? false, settledDate },
      exists: existing !== undefined,
    };
  },
  amount: (r) => ({ currency: r.currency, minor: r.amountMinor }),
  customerOf: (r) => r.customerId,
  remember(memory, r) {
    memory.invoices.add(`${r.externalRef}\u0000${r.customerId}`);
  },
  async load(ctx, r) {
    const inv = await importHistoricalInvoice(
      ctx.core,
      { customerId: r.customerId, externalRef: r.externalRef, invoiceDate: r.invoiceDate, dueDate: r.dueDate, amount: formatAmount(r.amountMinor, r.currency), currency: r.currency, disputed: r.disputed },
      ctx.actor,
    );
    let created = inv.created;
    if (r.settledDate && r.amountMinor > 0) {
      // DESIGN.md: a settled_date no payment row covers means "paid in full on that date".
      // The import records that as a payment of its own; a later payments import that
      // covers the invoice replaces it (see settlePayments).
      const p = await recordPayment(
        ctx.core,
        { customerId: r.customerId, amount: formatAmount(r.amountMinor, r.currency), currency: r.currency, date: r.settledDate, method: SETTLEMENT_METHOD, reference: r.externalRef, externalId: `settled:${r.externalRef}` },
        ctx.actor,
      );
      created ||= p.created;
    }
    return created ? 'created' : 'unchanged';
  },
};

// --- payments --------------------------------------------------------------------------

export interface PaymentRecord {
  externalId: string;
  customerId: number;
  currency: string;
  date: string;
  amountMinor: number;
  /** The invoice the row names (its external ref or number), if any. */
  invoiceRef: string | null;
  invoiceId: number | null;
}

const payments: EntitySpec<PaymentRecord> = {
  entity: 'payments',
  columns: ['payment_id', 'customer_id', 'payment_date', 'amount', 'currency', 'invoice_id'],
  required: ['payment_id', 'customer_id', 'payment_date', 'amount'],
  idColumn: 'payment_id',
  phases: 2,
  async check(f, ctx) {
    const externalId = f.text('payment_id', { required: true, max: textMax('payments', 'payment_id') });
    const seen = duplicate(f, ctx, 'payment_id', externalId, this.columns);
    if (seen === 'repeat') return REPEATED;
    if (seen === 'conflict') return null;
    const customer = await knownCustomer(f, ctx);
    const date = f.date('payment_date', { required: true });
    if (date && date > ctx.today) f.problem('payment_date', date, 'not_future', `payment_date ${date} is after today (${ctx.today})`);
    const amount = customer ? f.amount('amount', customer.currency, { required: true, sign: 'positive' }) : null;
    const invoiceRef = f.text('invoice_id', { max: textMax('payments', 'invoice_id') });
    let invoiceId: number | null = null;
    if (invoiceRef && customer) {
      // The old system's number first: a cashloop number that happens to be equal is not it.
      const db = ctx.core.db.kysely;
      const inv =
        (await db.selectFrom('invoices').select(['id', 'customer_id', 'number']).where('external_ref', '=', invoiceRef).executeTakeFirst()) ??
        (await db.selectFrom('invoices').select(['id', 'customer_id', 'number']).where('number', '=', invoiceRef).executeTakeFirst());
      if (!inv && ctx.pending?.invoices.has(`${invoiceRef}\u0000${customer.id}`)) invoiceId = null;
      else if (!inv) f.problem('invoice_id', invoiceRef, 'unknown_invoice', `invoice_id ${invoiceRef} is not an invoice in cashloop (import invoices first)`);
      else if (inv.customer_id !== customer.id) f.problem('invoice_id', invoiceRef, 'invoice_customer', `invoice ${invoiceRef} belongs to another customer than ${customer.externalId}`);
      else invoiceId = inv.id;
    }
    if (f.problems.length || !externalId || !customer || !date || amount === null) return null;
    const existing = await ctx.core.db.kysely.selectFrom('payments').select(['id', 'customer_id', 'amount_minor']).where('external_id', '=', externalId).executeTakeFirst();
    if (existing && (existing.customer_id !== customer.id || existing.amount_minor !== amount)) {
      f.problem('payment_id', externalId, 'idempotent_retry', `payment_id ${externalId} is already in cashloop (payment ${existing.id}) with another customer or amount`);
      return null;
    }
    if (!existing && invoiceId !== null) ctx.covered.set(invoiceId, (ctx.covered.get(invoiceId) ?? 0) + amount);
    return { record: { externalId, customerId: customer.id, currency: customer.currency, date, amountMinor: amount, invoiceRef, invoiceId }, exists: existing !== undefined };
  },
  amount: (r) => ({ currency: r.currency, minor: r.amountMinor }),
  customerOf: (r) => r.customerId,
  beforeLoad: settlePayments,
  async load(ctx, r, phase) {
    // Rows that name an invoice go first, so rows that do not cannot take its balance.
    if ((phase === 0) !== (r.invoiceId !== null)) return 'skip';
    const p = await recordPayment(
      ctx.core,
      { customerId: r.customerId, amount: formatAmount(r.amountMinor, r.currency), currency: r.currency, date: r.date, method: IMPORT_METHOD, reference: r.invoiceRef, externalId: r.externalId },
      ctx.actor,
    );
    return p.created ? 'created' : 'unchanged';
  },
};

/**
 * Before payment rows are written: an invoice that was imported as settled (with a
 * settlement payment standing in for the missing rows) and that rows of this file pay now
 * keeps a settlement only for what those rows do not cover — the standing one is reversed
 * and, if anything is left, replaced by a smaller one on the same date.
 */
async function settlePayments(ctx: ImportContext): Promise<void> {
  const db = ctx.core.db.kysely;
  for (const [invoiceId, newlyCovered] of ctx.covered) {
    const inv = await db.selectFrom('invoices').select(['id', 'external_ref', 'number', 'customer_id', 'currency', 'total_minor']).where('id', '=', invoiceId).executeTakeFirstOrThrow();
    const ref = inv.external_ref ?? inv.number;
    const settlements = await db.selectFrom('payments').selectAll().where('method', '=', SETTLEMENT_METHOD).where('customer_id', '=', inv.customer_id).where('bank_reference', '=', ref).orderBy('id').execute();
    if (settlements.length === 0) continue;
    const before = await db
      .selectFrom('payments')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount_minor'), eb.lit(0)).as('s'))
      .where('method', '=', IMPORT_METHOD)
      .where('status', '=', 'received')
      .where('customer_id', '=', inv.customer_id)
      .where('bank_reference', '=', ref)
      .executeTakeFirstOrThrow();
    const needed = Math.max(0, inv.total_minor - Number(before.s) - newlyCovered);
    const live = settlements.filter((s) => s.status === 'received');
    if (live.length === 1 && live[0]!.amount_minor === needed) continue;
    if (live.length === 0 && needed === 0) continue;
    for (const s of live) await reversePayment(ctx.core, s.id, `replaced: payment rows of the import cover invoice ${ref}`, ctx.actor);
    if (needed > 0) {
      await recordPayment(
        ctx.core,
        { customerId: inv.customer_id, amount: formatAmount(needed, inv.currency), currency: inv.currency, date: settlements[0]!.payment_date, method: SETTLEMENT_METHOD, reference: ref, externalId: `settled:${ref}:${settlements.length + 1}` },
        ctx.actor,
      );
    }
  }
}

export const SPECS: Record<Entity, EntitySpec<unknown>> = {
  customers: customers as EntitySpec<unknown>,
  products: products as EntitySpec<unknown>,
  orders: orders as EntitySpec<unknown>,
  invoices: invoices as EntitySpec<unknown>,
  payments: payments as EntitySpec<unknown>,
};
