import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createOrder, getOrder } from '../../src/orders/order.service.ts';
import { creditDecisions, releaseOrder, submitOrder } from '../../src/credit/credit.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';

// A submission answers the order its transaction left (lines as reserved, without reading
// them again) and decides on the customer's exposure without the order's own amount.
describe(`a submission's answer and figures on ${testDialect}`, () => {
  let t: TestCore;
  let customerId: number;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    const { customer } = await seedBasics(t.core, { creditLimit: '1000', stock: 5 });
    customerId = customer.id;
    await createProduct(t.core, { sku: 'GADGET', name: 'Gadget', price: '10.00', taxRate: '20', category: 'Hardware', unitCost: '5.00' }, actor);
    await receiveStock(t.core, { sku: 'GADGET', quantity: 50 }, actor);
  });
  afterAll(async () => t?.cleanup());

  it('answers an approved order as it reads after the commit: every line, reserved, short and in full', async () => {
    // Line 1: 8 widgets, 5 in stock (5 reserved, 3 on backorder); line 2: 2 gadgets, all reserved; line 3: 3 widgets, none left.
    const order = await createOrder(t.core, { customerId, lines: [{ sku: 'WIDGET', quantity: 8 }, { sku: 'GADGET', quantity: 2 }, { sku: 'WIDGET', quantity: 3 }] }, actor);
    const submitted = await submitOrder(t.core, order.id, actor);
    expect(submitted.status).toBe('approved');
    const { credit, ...answered } = submitted;
    expect(credit.approved).toBe(true);
    expect(answered).toEqual(await getOrder(t.core, order.id));
    expect(answered.lines.map((l) => [l.lineNo, l.sku, l.productName, l.reservedQty, l.backorderQty])).toEqual([
      [1, 'WIDGET', 'Widget', 5, 3],
      [2, 'GADGET', 'Gadget', 2, 0],
      [3, 'WIDGET', 'Widget', 0, 3],
    ]);
  });

  it('counts the approved orders before it, never itself, at submission and at release', async () => {
    const before = (await getOrder(t.core, (await createOrder(t.core, { customerId, lines: [{ sku: 'GADGET', quantity: 10 }] }, actor)).id));
    // 10 gadgets at 12.00 = 120.00: approved beside the first order's 189.00.
    const approved = await submitOrder(t.core, before.id, actor);
    expect(approved.status).toBe('approved');
    expect((await creditDecisions(t.core, before.id))[0]).toMatchObject({ unbilledMinor: 18_900, exposureMinor: 18_900 + 12_000 });
    // 60 gadgets at 12.00 = 720.00 on 309.00 unbilled: over the 1,000.00 limit, held; released, the figures leave it out again.
    const big = await createOrder(t.core, { customerId, lines: [{ sku: 'GADGET', quantity: 60 }] }, actor);
    const held = await submitOrder(t.core, big.id, actor);
    expect(held.status).toBe('credit_hold');
    expect(held.credit.exposureMinor).toBe(30_900 + 72_000);
    await releaseOrder(t.core, big.id, 'agreed by phone', actor);
    const decisions = await creditDecisions(t.core, big.id);
    expect(decisions.map((d) => [d.decision, d.unbilledMinor, d.exposureMinor])).toEqual([
      ['credit_hold', 30_900, 30_900 + 72_000],
      ['released', 30_900, 30_900 + 72_000],
    ]);
  });
});
