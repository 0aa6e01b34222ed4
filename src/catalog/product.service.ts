import { sql, type Kysely } from 'kysely';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { Database, ProductRow } from '../db/schema.ts';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { formatAmount, parseAmount, parseCurrency, parsePercent } from '../shared/money.ts';
import { optionalText, pageOptions, requireText } from '../shared/validate.ts';
import { getSettings } from '../settings/settings.service.ts';

export interface ProductInput {
  sku: string;
  name: string;
  category?: string | null;
  currency?: string;
  /** Decimal list price, e.g. "12.50". */
  price: string | number;
  unitCost?: string | number;
  /** Percent, e.g. "20" or "7.5". */
  taxRate?: string | number;
  /** The product's code in the system it was imported from, kept as written (any characters). */
  externalCode?: string | null;
}

export interface Product {
  id: number;
  sku: string;
  name: string;
  category: string | null;
  currency: string;
  listPriceMinor: number;
  listPrice: string;
  unitCostMinor: number;
  taxRateBp: number;
  onHand: number;
  reserved: number;
  available: number;
}

const SKU_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function toProduct(r: ProductRow, stock?: { on_hand: number; reserved: number }): Product {
  const onHand = stock?.on_hand ?? 0;
  const reserved = stock?.reserved ?? 0;
  return {
    id: r.id,
    sku: r.sku,
    name: r.name,
    category: r.category,
    currency: r.currency,
    listPriceMinor: r.list_price_minor,
    listPrice: formatAmount(r.list_price_minor, r.currency),
    unitCostMinor: r.unit_cost_minor,
    taxRateBp: r.tax_rate_bp,
    onHand,
    reserved,
    available: onHand - reserved,
  };
}

export function findProductBySku(db: Kysely<Database>, sku: string) {
  return db
    .selectFrom('products')
    .leftJoin('stock_levels', 'stock_levels.product_id', 'products.id')
    .selectAll('products')
    .select(['stock_levels.on_hand', 'stock_levels.reserved'])
    .where('products.sku', '=', sku)
    .executeTakeFirst();
}

/** Creates a product with an empty stock level; the SKU is its key and must be new. */
export async function createProduct(core: Core, input: ProductInput, actor: string): Promise<Product> {
  const settings = await getSettings(core.db.kysely);
  const sku = requireText(input.sku, 'sku', 64);
  if (!SKU_RE.test(sku)) throw invalid(`sku ${sku} may hold letters, digits, dot, dash and underscore only`, { field: 'sku', value: sku, rule: 'sku_format' });
  const currency = parseCurrency(input.currency ?? settings['company.currency']);
  const price = parseAmount(input.price, currency, 'price');
  const cost = parseAmount(input.unitCost ?? '0', currency, 'unitCost');
  if (price < 0) throw invalid('price must not be negative', { field: 'price', value: input.price, rule: 'amount_not_negative' });
  if (cost < 0) throw invalid('unitCost must not be negative', { field: 'unitCost', value: input.unitCost, rule: 'amount_not_negative' });
  const row = {
    sku,
    name: requireText(input.name, 'name'),
    category: optionalText(input.category, 'category', 100),
    currency,
    list_price_minor: price,
    unit_cost_minor: cost,
    tax_rate_bp: parsePercent(input.taxRate ?? '0', 'taxRate'),
    external_code: input.externalCode == null ? null : requireText(input.externalCode, 'externalCode', 100),
  };
  return runChange(core, actor, async ({ trx, at }) => {
    if (await trx.selectFrom('products').select('id').where('sku', '=', sku).executeTakeFirst()) {
      throw conflict(`product ${sku} already exists`, { entity: 'product', id: sku, field: 'sku', value: sku, rule: 'unique' });
    }
    if (row.external_code !== null && (await trx.selectFrom('products').select('id').where('external_code', '=', row.external_code).executeTakeFirst())) {
      throw conflict(`a product with external code ${row.external_code} already exists`, { entity: 'product', id: row.external_code, field: 'externalCode', value: row.external_code, rule: 'unique' });
    }
    const product = await trx.insertInto('products').values({ ...row, created_at: at, updated_at: at }).returningAll().executeTakeFirstOrThrow();
    const stock = await trx.insertInto('stock_levels').values({ product_id: product.id, on_hand: 0, reserved: 0, updated_at: at }).returningAll().executeTakeFirstOrThrow();
    return { result: toProduct(product, stock), events: [{ type: 'product.created', aggregate: 'product', id: product.id, after: { products: [product], stock_levels: [stock] } }] };
  });
}

export async function getProduct(core: Core, sku: string): Promise<Product> {
  const row = await findProductBySku(core.db.kysely, requireText(sku, 'sku', 64));
  if (!row) throw notFound('product', sku);
  return toProduct(row, { on_hand: row.on_hand ?? 0, reserved: row.reserved ?? 0 });
}

export async function listProducts(core: Core, options: { afterId?: number; limit?: number; category?: string } = {}): Promise<Product[]> {
  const page = pageOptions(options);
  let q = core.db.kysely
    .selectFrom('products')
    .leftJoin('stock_levels', 'stock_levels.product_id', 'products.id')
    .selectAll('products')
    .select(['stock_levels.on_hand', 'stock_levels.reserved'])
    .orderBy('products.id')
    .limit(page.limit);
  if (page.afterId) q = q.where('products.id', '>', page.afterId);
  if (options.category) q = q.where('products.category', '=', options.category);
  const rows = await q.execute();
  return rows.map((r) => toProduct(r, { on_hand: r.on_hand ?? 0, reserved: r.reserved ?? 0 }));
}

/** The longest text a product search takes. */
export const SEARCH_MAX = 64;

/**
 * Products whose SKU or name holds the text (case-insensitive for ASCII letters on both
 * databases), SKUs that start with it first, then by SKU; at most `limit` (1–50, default 8).
 * One indexed-or-scanned query on the database, never the catalogue read into memory.
 */
export async function searchProducts(core: Core, text: unknown, limit: unknown = 8): Promise<Product[]> {
  if (typeof text !== 'string') throw invalid('search text must be text', { field: 'q', value: text, rule: 'text' });
  const needle = text.trim().toLowerCase();
  if (needle.length > SEARCH_MAX) throw invalid(`search text is longer than ${SEARCH_MAX} characters`, { field: 'q', value: text, rule: 'max_length' });
  const n = typeof limit === 'string' && /^\d+$/.test(limit) ? Number(limit) : limit;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 50) throw invalid(`limit must be a whole number from 1 to 50, got ${String(limit)}`, { field: 'limit', value: limit, rule: 'range' });
  if (needle === '') return [];
  // LIKE's own wildcards in the text are searched for as themselves.
  const escaped = needle.replace(/[\\%_]/g, (c) => `\\${c}`);
  const contains = `%${escaped}%`;
  const starts = `${escaped}%`;
  const rows = await core.db.kysely
    .selectFrom('products')
    .leftJoin('stock_levels', 'stock_levels.product_id', 'products.id')
    .selectAll('products')
    .select(['stock_levels.on_hand', 'stock_levels.reserved'])
    .where((eb) => eb.or([sql<boolean>`lower(products.sku) like ${contains} escape '\\'`, sql<boolean>`lower(products.name) like ${contains} escape '\\'`]))
    .orderBy(sql`case when lower(products.sku) like ${starts} escape '\\' then 0 else 1 end`)
    .orderBy('products.sku')
    .limit(n)
    .execute();
  return rows.map((r) => toProduct(r, { on_hand: r.on_hand ?? 0, reserved: r.reserved ?? 0 }));
}
