import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scoreCustomer, type ScoreInputs } from '../../models/credit-score/score.ts';
import { writeBackScores } from '../../models/credit-score/write-back.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { createCustomer, getCustomer } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { applyCreditScores } from '../../src/credit/score.service.ts';
import { createShipment } from '../../src/shipping/shipment.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';

const clean: ScoreInputs = { currency: 'EUR', invoicesPaid: 20, shareLate: 0, meanDaysLate: 0, trendDaysPerQuarter: 0, openCents: 10_000, overdueCents: 0, creditLimitCents: 100_000, disputedShare: 0, sales3mCents: 50_000, salesPrior3mCents: 50_000, writtenOffShare: 0 };

describe('credit score', () => {
  it('is 100 plus the points of its reasons, with the reasons in words', () => {
    const cases: ScoreInputs[] = [clean, { ...clean, shareLate: 0.45, meanDaysLate: 12.4, overdueCents: 5_000, openCents: 90_000, disputedShare: 0.2, trendDaysPerQuarter: 3.2, invoicesPaid: 3 }, { ...clean, writtenOffShare: 0.4, shareLate: 0.5, openCents: 0 }];
    for (const c of cases) {
      const s = scoreCustomer(c);
      expect(s.score).toBe(Math.max(0, 100 + s.reasons.reduce((a, r) => a + r.points, 0)));
      for (const r of s.reasons) expect(r.points).toBeLessThan(0);
    }
    expect(scoreCustomer(clean)).toMatchObject({ score: 100, riskClass: 'A', reasons: [], suggestedLimitCents: 80_000 });
    const late = scoreCustomer(cases[1]!);
    // 12 (days late) + 9 (45 % late) + 1 (6 % overdue) + 8 (90 % of limit) + 2 (20 % disputed) + 3 (trend) + 5 (tenure)
    expect(late.score).toBe(60);
    expect(late.riskClass).toBe('C');
    expect(late.reasons[0]).toEqual({ factor: 'days_late', points: -12, text: 'pays on average 12.4 days after the due date' });
    expect(scoreCustomer(cases[2]!)).toMatchObject({ riskClass: 'E', suggestedLimitCents: 0 });
  });

  it('speaks of amounts in the customer’s own currency: a yen is a yen', () => {
    const yen = scoreCustomer({ ...clean, currency: 'JPY', openCents: 90_000, overdueCents: 45_000, sales3mCents: 1_234_567, salesPrior3mCents: 0 });
    expect(yen.reasons.find((r) => r.factor === 'overdue_share')!.text).toBe('50 % of the open balance is overdue (45000 JPY)');
    // Class B (half overdue, 90 % of the limit used): 1.2 × 1,234,567 = 1,481,480.4 yen, rounded to a hundred yen.
    expect(yen.riskClass).toBe('B');
    expect(yen.suggestedLimitCents).toBe(1_481_500);
    const dinar = scoreCustomer({ ...clean, currency: 'KWD', openCents: 90_000, overdueCents: 4_500, sales3mCents: 1_234_567, salesPrior3mCents: 0 });
    expect(dinar.reasons.find((r) => r.factor === 'overdue_share')!.text).toBe('5 % of the open balance is overdue (4.500 KWD)');
    // Class A: 1.5 × 1,234.567 = 1,851.8505 dinars, rounded to a hundred dinars (100,000 fils).
    expect(dinar.riskClass).toBe('A');
    expect(dinar.suggestedLimitCents).toBe(1_900_000);
  });
});

describe(`credit scores back into the core (${testDialect})`, () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z');
  });
  afterEach(async () => t.cleanup());

  it('scores core customers from the warehouse and sets their risk class through the core', async () => {
    const { core, clock } = t;
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    await createProduct(core, { sku: 'W', name: 'W', price: '100' }, actor);
    await receiveStock(core, { sku: 'W', quantity: 1000 }, actor);
    const good = await createCustomer(core, { name: 'Good', creditLimit: '100000', currency: 'EUR' }, actor);
    const bad = await createCustomer(core, { name: 'Bad', creditLimit: '100000', currency: 'EUR' }, actor);
    for (let m = 0; m < 6; m++) {
      for (const c of [good, bad]) {
        const o = await createOrder(core, { customerId: c.id, lines: [{ sku: 'W', quantity: 1 }] }, actor);
        await submitOrder(core, o.id, actor);
        await createShipment(core, { orderId: o.id, carrier: 'X', trackingNumber: `T${o.id}` }, actor);
      }
      clock.advanceDays(10);
      await recordPayment(core, { customerId: good.id, amount: '100' }, actor); // pays in 10 days
      clock.advanceDays(20);
      if (m % 2 === 0) {
        clock.advanceDays(25);
        await recordPayment(core, { customerId: bad.id, amount: '100' }, actor); // pays some, late
        clock.advanceDays(-25);
      }
    }
    clock.advanceDays(60);
    const dataDir = fs.mkdtempSync(path.join(t.dataDir, 'wh-'));
    await runPipeline({ dataDir, coreUrl: t.url, quiet: true, asOf: clock.now().toISOString().slice(0, 10) });
    const r = await writeBackScores((scores) => applyCreditScores(core, scores, actor), path.join(dataDir, 'published', 'warehouse.duckdb'));
    expect(r.updated).toBe(2);
    const g = await getCustomer(core, good.id);
    const b = await getCustomer(core, bad.id);
    expect(g.riskClass).toBe('A');
    expect(['D', 'E']).toContain(b.riskClass);
  }, 60_000);
});
