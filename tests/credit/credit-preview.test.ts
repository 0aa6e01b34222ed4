import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents, seedBasics } from '../helpers/fixtures.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { previewCredit, submitOrder } from '../../src/credit/credit.service.ts';
import { createProduct, searchProducts } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe(`credit preview and product search on ${testDialect}`, () => {
  let t: TestCore;
  let customerId: number;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    customerId = (await seedBasics(t.core, { creditLimit: '1000' })).customer.id;
    await createProduct(t.core, { sku: 'GADGET-10', name: 'Gadget ten', price: '100.00', taxRate: '0' }, actor);
    await createProduct(t.core, { sku: 'BOLT_M8', name: '100% steel bolt', price: '0.10', taxRate: '0' }, actor);
    await createProduct(t.core, { sku: 'WASHER', name: 'Washer for widget', price: '0.05', taxRate: '0' }, actor);
    await receiveStock(t.core, { sku: 'GADGET-10', quantity: 40 }, actor);
  });
  afterAll(async () => t?.cleanup());

  it('says what the submission will decide, with the same figures, and writes nothing', async () => {
    const before = await countEvents(t.core);
    const ok = await previewCredit(t.core, String(customerId), [{ sku: 'GADGET-10', quantity: '9' }]);
    expect(ok.orderTotalMinor).toBe(90_000);
    expect(ok.evaluation).toMatchObject({ approved: true, exposureMinor: 90_000, reasons: [] });
    expect(ok.lines).toEqual([{ sku: 'GADGET-10', name: 'Gadget ten', quantity: 9, unitPriceMinor: 10_000, totalMinor: 90_000 }]);
    const hold = await previewCredit(t.core, customerId, [{ sku: 'GADGET-10', quantity: '10' }, { sku: 'WIDGET', quantity: 1, discountPercent: '10' }]);
    // 1000.00 + 12.50 less 10 % plus 20 % tax = 13.50
    expect(hold.orderTotalMinor).toBe(100_000 + 1_350);
    expect(hold.evaluation.approved).toBe(false);
    expect(hold.evaluation.reasons).toEqual(['exposure 1,013.50 EUR exceeds credit limit 1,000.00 EUR']);
    expect(await countEvents(t.core)).toBe(before);
    // The submission of the same order reaches the same verdict with the same exposure.
    const order = await createOrder(t.core, { customerId, lines: [{ sku: 'GADGET-10', quantity: 10 }, { sku: 'WIDGET', quantity: 1, discountPercent: '10' }] }, actor);
    const submitted = await submitOrder(t.core, order.id, actor);
    expect(submitted.status).toBe('credit_hold');
    expect(submitted.credit.exposureMinor).toBe(hold.evaluation.exposureMinor);
    // A held order uses no credit until it is released: the next preview's figures leave it out.
    const next = await previewCredit(t.core, customerId, [{ sku: 'GADGET-10', quantity: '1' }]);
    expect(next.figures.unbilledMinor).toBe(0);
    expect(next.evaluation.approved).toBe(true);
  });

  it('refuses bad lines with the field and the rule, every line at once', async () => {
    const e = await refusal(previewCredit(t.core, customerId, [{ sku: 'NOPE', quantity: '1' }, { sku: 'WIDGET', quantity: '0' }]));
    expect(e.problems.map((p) => [p.field, p.rule])).toEqual([
      ['lines.0.sku', 'product_exists'],
      ['lines.1.quantity', 'positive'],
    ]);
    expect((await refusal(previewCredit(t.core, customerId, []))).detail).toMatchObject({ field: 'lines', rule: 'lines_required' });
    expect((await refusal(previewCredit(t.core, 'abc', [{ sku: 'WIDGET', quantity: 1 }]))).detail).toMatchObject({ field: 'customerId', rule: 'integer' });
    expect((await refusal(previewCredit(t.core, 99_999, [{ sku: 'WIDGET', quantity: 1 }]))).kind).toBe('not_found');
  });

  it('searches SKUs and names on the database, SKU prefixes first, wildcards taken literally', async () => {
    expect((await searchProducts(t.core, 'widget')).map((p) => p.sku)).toEqual(['WIDGET', 'WASHER']);
    expect((await searchProducts(t.core, 'GAD')).map((p) => [p.sku, p.available, p.listPrice])).toEqual([['GADGET-10', 40, '100.00']]);
    expect((await searchProducts(t.core, '100%')).map((p) => p.sku)).toEqual(['BOLT_M8']);
    expect((await searchProducts(t.core, '_')).map((p) => p.sku)).toEqual(['BOLT_M8']);
    expect(await searchProducts(t.core, '   ')).toEqual([]);
    expect((await searchProducts(t.core, 'e', 2)).length).toBe(2);
    expect((await refusal(searchProducts(t.core, 'x'.repeat(65)))).detail).toMatchObject({ field: 'q', rule: 'max_length' });
    expect((await refusal(searchProducts(t.core, 'x', 51))).detail).toMatchObject({ field: 'limit', rule: 'range' });
  });
});
