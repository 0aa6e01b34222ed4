import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { holdQueue, releaseOrder, submitOrder } from '../../src/credit/credit.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

describe(`the hold queue on ${testDialect}`, () => {
  let t: TestCore;
  const held: number[] = [];

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    const { customer } = await seedBasics(t.core, { creditLimit: '100', stock: 1000 });
    // 12.50 + 20 % = 15.00 a widget: 7 widgets (105.00) exceed the 100.00 limit.
    for (let i = 0; i < 5; i++) {
      const o = await createOrder(t.core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 7 + i }] }, actor);
      expect((await submitOrder(t.core, o.id, actor)).status).toBe('credit_hold');
      held.push(o.id);
    }
    const small = await createOrder(t.core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    expect((await submitOrder(t.core, small.id, actor)).status).toBe('approved');
  });
  afterAll(async () => t?.cleanup());

  it('pages the held orders oldest first on the database, each with why it is held in money', async () => {
    const first = await holdQueue(t.core, { limit: 2 });
    expect(first.total).toBe(5);
    expect(first.items.map((h) => h.id)).toEqual(held.slice(0, 2));
    expect(first.next).toBe(held[1]);
    expect(first.items[0]!.decision).toMatchObject({ decision: 'credit_hold', exposureMinor: 10_500, creditLimitMinor: 10_000 });
    expect(first.items[0]!.decision!.reasons).toEqual(['exposure 105.00 EUR exceeds credit limit 100.00 EUR']);
    expect(first.items[0]!.customer).toMatchObject({ name: 'Acme GmbH', creditLimitMinor: 10_000 });
    const last = await holdQueue(t.core, { afterId: String(held[3]), limit: 2 });
    expect(last.items.map((h) => h.id)).toEqual([held[4]]);
    expect(last.next).toBeNull();
    await releaseOrder(t.core, held[0]!, 'paid in advance by arrangement', actor);
    const after = await holdQueue(t.core, { limit: 10 });
    expect(after.total).toBe(4);
    expect(after.items.map((h) => h.id)).toEqual(held.slice(1));
  });

  it('refuses a cursor or a page size that is not one', async () => {
    for (const [options, field] of [[{ afterId: 'abc' }, 'after'], [{ limit: 0 }, 'limit'], [{ limit: '1e9' }, 'limit']] as const) {
      const e = await holdQueue(t.core, options).then(() => null, (x: unknown) => x);
      expect(e, JSON.stringify(options)).toBeInstanceOf(DomainError);
      expect((e as DomainError).detail.field).toBe(field);
    }
  });
});
