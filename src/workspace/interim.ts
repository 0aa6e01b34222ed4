import type { Core } from '../core.ts';
import { getCustomer, type Customer } from '../customers/customer.service.ts';
import { getProduct, listProducts, type Product } from '../catalog/product.service.ts';
import { getSettings } from '../settings/settings.service.ts';
import { exposureFigures, finalNoticeInvoices, type ExposureFigures } from '../credit/credit.repository.ts';
import { evaluateCredit, type CreditEvaluation } from '../credit/credit.rules.ts';
import { documentTotals, lineAmounts } from '../orders/order.totals.ts';
import { requireQuantity } from '../shared/validate.ts';
import { DomainError, invalid } from '../shared/errors.ts';

/**
 * Stand-ins for services the core does not offer yet (a credit preview, a product search),
 * composed only of the core's own rules and reads so the page shows what the core would
 * decide. This is the one workspace file that reads a repository; it goes when the credit
 * preview and the search services land, and the pages switch to them.
 */

export interface PreviewLine {
  sku: string;
  quantity: string;
}

export interface CreditPreview {
  customer: Customer;
  lines: { product: Product; quantity: number; totalMinor: number }[];
  orderTotalMinor: number;
  figures: ExposureFigures;
  evaluation: CreditEvaluation;
}

/**
 * What the credit check would say if this order were submitted now: the same figures and the
 * same rules (`evaluateCredit`) the submission runs, read outside its lock, so a change made
 * meanwhile may still turn the verdict at submission — which is the one that counts.
 */
export async function previewCredit(core: Core, customerId: string | number, lines: PreviewLine[]): Promise<CreditPreview> {
  const customer = await getCustomer(core, customerId);
  const priced: CreditPreview['lines'] = [];
  const problems: { message: string; field: string; value: unknown; rule: string }[] = [];
  for (const [i, l] of lines.entries()) {
    try {
      const product = await getProduct(core, l.sku);
      const quantity = requireQuantity(l.quantity, `lines.${i}.quantity`);
      priced.push({ product, quantity, totalMinor: lineAmounts(quantity, product.listPriceMinor, 0, product.taxRateBp, `lines.${i}.quantity`).total });
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      problems.push({ message: `line ${i + 1}: ${e.message}`, field: e.detail.field ?? `lines.${i}`, value: e.detail.value, rule: e.detail.rule ?? 'invalid' });
    }
  }
  if (problems.length > 0) throw new DomainError('invalid', problems.map((p) => p.message).join('; '), problems[0], problems);
  const total = documentTotals(priced.map((p) => ({ gross: 0, discount: 0, net: 0, tax: 0, total: p.totalMinor }))).total;
  const db = core.db.kysely;
  const settings = await getSettings(db);
  const today = core.clock.now().toISOString().slice(0, 10);
  const figures = await exposureFigures(db, customer.id, today);
  const evaluation = evaluateCredit({
    currency: customer.currency,
    customerStatus: customer.status,
    riskClass: customer.riskClass,
    creditLimitMinor: customer.creditLimitMinor,
    openArMinor: figures.openArMinor,
    unappliedCashMinor: figures.unappliedCashMinor,
    unbilledMinor: figures.unbilledMinor,
    orderTotalMinor: total,
    overdueMinor: figures.overdueMinor,
    oldestDaysOverdue: figures.oldestDaysOverdue,
    maxDaysOverdueAllowed: settings['credit.max_days_overdue'],
    classDLimitSharePercent: settings['credit.class_d_limit_share'],
    finalNoticeInvoices: await finalNoticeInvoices(db, customer.id),
  });
  return { customer, lines: priced, orderTotalMinor: total, figures, evaluation };
}

/** Products whose SKU or name holds the text, up to `limit`: the catalogue read page by page. */
export async function searchProducts(core: Core, text: string, limit = 8): Promise<Product[]> {
  const needle = text.trim().toLowerCase();
  if (needle.length > 64) throw invalid('search text is longer than 64 characters', { field: 'q', value: text, rule: 'max_length' });
  if (needle === '') return [];
  const found: Product[] = [];
  let after: number | undefined;
  for (;;) {
    const batch = await listProducts(core, { afterId: after, limit: 1000 });
    for (const p of batch) if (p.sku.toLowerCase().includes(needle) || p.name.toLowerCase().includes(needle)) found.push(p);
    if (found.length >= limit || batch.length < 1000) break;
    after = batch.at(-1)!.id;
  }
  return found.slice(0, limit);
}
