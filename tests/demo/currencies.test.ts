import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { generateDemo, type DemoResult } from '../../src/demo/generator.ts';
import { parseCurrencyMix, priceIn } from '../../src/demo/currencies.ts';
import { DomainError } from '../../src/shared/errors.ts';

describe('demo currency mix: parsing and the price list', () => {
  it('reads CODE:WEIGHT lists and refuses what it cannot price', () => {
    expect(parseCurrencyMix('EUR:70,USD:20,jpy:10')).toEqual([['EUR', 70], ['USD', 20], ['JPY', 10]]);
    expect(parseCurrencyMix('EUR')).toEqual([['EUR', 100]]);
    for (const bad of ['', 'EUR:0', 'EUR:x', 'EUR:50,EUR:50', 'XXX:10', 'EURO:1']) {
      expect(() => parseCurrencyMix(bad), bad).toThrow(DomainError);
    }
  });

  it('prices by the currency exponent, rounding half up once', () => {
    expect(priceIn(1999, 'EUR')).toBe(1999);
    expect(priceIn(1999, 'JPY')).toBe(3198); // 19.99 × 160 = 3198.4 yen
    expect(priceIn(1995, 'USD')).toBe(2195); // 19.95 × 1.10 = 21.945 → 21.95
    expect(priceIn(1, 'KWD')).toBe(3); // 0.01 × 0.34 = 0.0034 → 0.003
  });
});

describe(`demo company in EUR, USD and JPY (${testDialect})`, () => {
  let t: TestCore;
  let r: DemoResult;
  beforeAll(async () => {
    t = await createTestCore('2024-01-01T07:00:00Z');
    r = await generateDemo(t.core, t.clock, { seed: 5, customers: 12, months: 3, start: '2024-01-01', currencies: parseCurrencyMix('EUR:50,USD:25,JPY:25') });
  }, 120_000);
  afterAll(async () => t?.cleanup());

  it('gives customers several currencies, and their documents follow them', async () => {
    const db = t.core.db.kysely;
    const customers = await db.selectFrom('customers').select(['id', 'currency', 'credit_limit_minor']).execute();
    const byCurrency = new Set(customers.map((c) => c.currency));
    expect([...byCurrency].sort()).toEqual(['EUR', 'JPY', 'USD']);
    const currencyOf = new Map(customers.map((c) => [c.id, c.currency]));
    const invoices = await db.selectFrom('invoices').select(['customer_id', 'currency']).execute();
    expect(invoices.length).toBeGreaterThan(0);
    for (const i of invoices) expect(i.currency).toBe(currencyOf.get(i.customer_id));
    const payments = await db.selectFrom('payments').select(['customer_id', 'currency']).execute();
    for (const p of payments) expect(p.currency).toBe(currencyOf.get(p.customer_id));
    expect(new Set(invoices.map((i) => i.currency)).size).toBe(3);
  });

  it('prices yen and dollar lines by the price list, in whole yen and cents', async () => {
    const rows = await t.core.db.kysely
      .selectFrom('order_lines as l')
      .innerJoin('orders as o', 'o.id', 'l.order_id')
      .innerJoin('products as p', 'p.id', 'l.product_id')
      .select(['o.currency', 'l.unit_price_minor', 'p.list_price_minor', 'p.currency as product_currency'])
      .execute();
    const seen = new Set<string>();
    for (const row of rows) {
      expect(row.product_currency).toBe('EUR');
      expect(row.unit_price_minor).toBe(priceIn(row.list_price_minor, row.currency));
      seen.add(row.currency);
    }
    expect([...seen].sort()).toEqual(['EUR', 'JPY', 'USD']);
  });

  it('dunns yen customers with letter fees in whole yen', async () => {
    const db = t.core.db.kysely;
    const jpy = await db.selectFrom('customers').select(['dunning_policy']).where('currency', '=', 'JPY').execute();
    expect(jpy.length).toBeGreaterThan(0);
    for (const c of jpy) expect(c.dunning_policy).toBe('standard-jpy');
    const policy = await db.selectFrom('dunning_policies').select('levels').where('name', '=', 'standard-jpy').executeTakeFirstOrThrow();
    expect((JSON.parse(policy.levels) as { fee: string }[]).map((l) => l.fee)).toEqual(['0', '0', '800', '1600']);
    expect(r.manifest.counts.reminders).toBeGreaterThan(0);
  });

  it('balances the books in each currency', () => {
    const m = r.manifest;
    expect(Object.keys(m.byCurrency).sort()).toEqual(['EUR', 'JPY', 'USD']);
    for (const [currency, b] of Object.entries(m.byCurrency)) {
      expect(b.books, currency).toEqual({ balanced: true, differenceMinor: 0 });
      expect(b.totals.invoicedMinor, currency).toBeGreaterThan(0);
    }
    expect(m.currencies).toEqual({ EUR: 50, USD: 25, JPY: 25 });
    expect(m.books.balanced).toBe(true);
  });
});
