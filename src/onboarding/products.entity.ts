/** Onboarding's products file: one product per row, the code kept as written beside a SKU made from it. */
import { createProduct, findProductBySku } from '../catalog/product.service.ts';
import { formatAmount } from '../shared/money.ts';
import { nextSku, skuOf } from '../extract/values.ts';
import { textMax } from '../extract/contract.ts';
import { duplicate, REPEATED, type EntitySpec, type ImportContext } from './entity.ts';

export interface ProductRecord {
  /** The product's code in the extract, kept as written; cashloop's SKU is made from it at load. */
  code: string;
  name: string;
  category: string | null;
  currency: string;
  price: string;
  unitCost: string;
}

export const products: EntitySpec<ProductRecord> = {
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
export async function productByCode(ctx: ImportContext, code: string): Promise<{ id: number } | null> {
  if (!ctx.products.has(code)) {
    const db = ctx.core.db.kysely;
    const hit =
      (await db.selectFrom('products').select('id').where('external_code', '=', code).executeTakeFirst()) ??
      (await db.selectFrom('products').select('id').where('sku', '=', code).where('external_code', 'is', null).executeTakeFirst());
    ctx.products.set(code, hit ?? null);
  }
  return ctx.products.get(code) ?? null;
}
