/**
 * The canonical extract: the files a company's other system hands over (customers, products,
 * order lines, invoices, payments), each with its columns, their kinds and which are required.
 * docs/extract.md describes it for users. Onboarding (`cashloop import`), the warehouse ingest
 * (`cashloop pipeline run --extract`) and the bank CSV reader all read through this module, so
 * a column, a default or a rule is written once.
 */

export type ColumnKind = 'text' | 'date' | 'money' | 'integer' | 'boolean' | 'currency';

export interface ExtractColumn {
  name: string;
  kind: ColumnKind;
  required: boolean;
  /**
   * Personal data onboarding keeps for bank matching (a customer's email and IBAN). The
   * warehouse never lands it: the published snapshot is copied by analysts.
   */
  personal?: boolean;
}

export const EXTRACT_ENTITIES = ['customers', 'products', 'order_lines', 'invoices', 'payments'] as const;
export type ExtractEntity = (typeof EXTRACT_ENTITIES)[number];

const col = (spec: string): ExtractColumn => {
  const required = spec.endsWith('*');
  const name = spec.replace('*', '');
  return { name, kind: columnKind(name), required };
};

/** Kind of a canonical column, from its name: `*_date` are dates, amounts are money, and so on. */
export function columnKind(name: string): ColumnKind {
  if (name.endsWith('_date')) return 'date';
  if (['amount', 'unit_price', 'unit_cost', 'credit_limit'].includes(name)) return 'money';
  if (['quantity', 'line_no', 'payment_terms_days'].includes(name)) return 'integer';
  if (name === 'disputed') return 'boolean';
  if (name === 'currency') return 'currency';
  return 'text';
}

/** entity → columns, in the order of the file; `*` marks a required column. */
export const EXTRACT_COLUMNS: Record<ExtractEntity, readonly ExtractColumn[]> = {
  customers: [
    ...['customer_id*', 'name', 'country', 'segment', 'currency', 'credit_limit', 'payment_terms_days'].map(col),
    { name: 'email', kind: 'text', required: false, personal: true },
    { name: 'iban', kind: 'text', required: false, personal: true },
  ],
  products: ['product_id*', 'name', 'category', 'unit_price', 'unit_cost', 'currency'].map(col),
  order_lines: ['order_id*', 'line_no*', 'customer_id*', 'order_date*', 'product_id*', 'quantity*', 'unit_price*', 'currency'].map(col),
  invoices: ['invoice_id*', 'customer_id*', 'invoice_date*', 'due_date*', 'amount*', 'currency', 'disputed', 'settled_date', 'order_id', 'billing_channel'].map(col),
  payments: ['payment_id*', 'customer_id*', 'payment_date*', 'amount*', 'currency', 'invoice_id', 'method'].map(col),
};

/** The column naming a row of each file; order lines are keyed by order_id and line_no together. */
export const EXTRACT_KEYS: Record<ExtractEntity, readonly string[]> = {
  customers: ['customer_id'],
  products: ['product_id'],
  order_lines: ['order_id', 'line_no'],
  invoices: ['invoice_id'],
  payments: ['payment_id'],
};

/** Files whose rows name a customer: a customer absent from the customers file gets a stand-in (see docs/extract.md). */
export const NAMES_A_CUSTOMER: readonly ExtractEntity[] = ['order_lines', 'invoices', 'payments'];

export function isExtractEntity(value: string): value is ExtractEntity {
  return (EXTRACT_ENTITIES as readonly string[]).includes(value);
}

export function extractColumns(entity: string): readonly ExtractColumn[] {
  return isExtractEntity(entity) ? EXTRACT_COLUMNS[entity] : [];
}

/** The warehouse's columns of a file: every canonical column but the personal ones. */
export function warehouseColumns(entity: string): readonly ExtractColumn[] {
  return extractColumns(entity).filter((c) => !c.personal);
}

/** Longest text each text column holds, in characters; 200 for any other. */
const TEXT_MAX: Record<ExtractEntity, Record<string, number>> = {
  customers: { customer_id: 100, name: 200, country: 60, segment: 60, email: 200, iban: 40 },
  products: { product_id: 100, name: 200, category: 100 },
  order_lines: { order_id: 100, customer_id: 100, product_id: 100 },
  invoices: { invoice_id: 90, customer_id: 100, order_id: 100 },
  payments: { payment_id: 200, customer_id: 100, invoice_id: 100 },
};

export function textMax(entity: ExtractEntity, column: string): number {
  return TEXT_MAX[entity][column] ?? 200;
}

/** Text columns that may hold tabs and line breaks (a name); other control characters never. */
export const FREE_TEXT_COLUMNS: readonly string[] = ['name'];

/** Name of the stand-in customer row for a customer id the customers file does not list. */
export const UNLISTED_CUSTOMER_NAME = (id: string) => `${id} (not in the customers file)`;

/**
 * The catch-all customer: a row of a file naming a customer (order lines, invoices, payments)
 * whose `customer_id` is blank belongs to it. Real extracts carry such rows (a cash sale, a
 * document whose customer was deleted); refusing them would leave their money out of every
 * total, so both paths in give them this one customer and report its rows and amounts. An
 * extract whose own customer is called `UNKNOWN` shares it.
 */
export const CATCH_ALL_CUSTOMER = { id: 'UNKNOWN', name: 'Unknown customer (from the extract)' } as const;

/** Whether a blank value of this column means the catch-all customer rather than a missing value. */
export function blankMeansCatchAll(entity: string, column: string): boolean {
  return column === 'customer_id' && (NAMES_A_CUSTOMER as readonly string[]).includes(entity);
}

/** Name of the customer cashloop creates for an id the customers file does not list: the catch-all's, or a stand-in's. */
export function standInCustomerName(id: string): string {
  return id === CATCH_ALL_CUSTOMER.id ? CATCH_ALL_CUSTOMER.name : UNLISTED_CUSTOMER_NAME(id);
}
