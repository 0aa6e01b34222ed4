import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { cli, cliEnv } from '../helpers/cli.ts';
import { countEvents } from '../helpers/fixtures.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey } from '../../src/api/keys.service.ts';

/**
 * What the CLI says: money as money (separators, the currency's decimals, its code — never
 * minor units), why an order is held, what a delivery invoiced; and arguments checked before
 * anything starts, each refusal said once.
 */
describe(`the CLI's words on ${testDialect}`, { timeout: 180_000 }, () => {
  let t: TestCore;
  let env: Record<string, string>;
  const actor = 'test';
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    env = cliEnv(t.url, t.dataDir, '2026-03-02T09:00:00Z');
    const core = t.core;
    const acme = await createCustomer(core, { name: 'Acme GmbH', creditLimit: '1000', currency: 'EUR' }, actor);
    await createCustomer(core, { name: 'Sakura KK', creditLimit: '100000', currency: 'JPY' }, actor);
    await createProduct(core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' }, actor);
    await receiveStock(core, { sku: 'WIDGET', quantity: 200 }, actor);
    const held = await createOrder(core, { customerId: acme.id, lines: [{ sku: 'WIDGET', quantity: 80 }] }, actor);
    await submitOrder(core, held.id, actor); // 1,200.00 EUR against a limit of 1,000.00: held
    const shipped = await createOrder(core, { customerId: acme.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor);
    await submitOrder(core, shipped.id, actor);
    await createShipment(core, { orderId: shipped.id, carrier: 'DHL', trackingNumber: 'T1' }, actor);
  });
  afterAll(async () => t.cleanup());

  it('refuses a wrong filter or page of a list with the words and rule the API answers the same query with', async () => {
    const app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
    try {
      const bearer = (await createApiKey(t.core, { role: 'admin', name: 'faces' }, actor)).key;
      const before = await countEvents(t.core);
      const cases: [string[], string][] = [
        [['customer', 'list', '--status', 'gone'], '/customers?status=gone'],
        [['customer', 'list', '--limit', '501'], '/customers?limit=501'],
        [['customer', 'list', '--after', 'x'], '/customers?after=x'],
        [['order', 'list', '--status', 'lost'], '/orders?status=lost'],
        [['order', 'list', '--limit', '0'], '/orders?limit=0'],
        [['credit', 'holds', '--limit', 'abc'], '/credit/holds?limit=abc'],
        [['collections', 'worklist', '--after', '-1'], '/collections/worklist?after=-1'],
        [['collections', 'worklist', '--limit', '1000'], '/collections/worklist?limit=1000'],
        [['collections', 'outbox', '--status', 'lost'], '/collections/outbox?status=lost'],
        [['promise', 'list', '--status', 'kept-ish'], '/promises?status=kept-ish'],
        [['dispute', 'list', '--status', 'closed'], '/disputes?status=closed'],
      ];
      for (const [args, url] of cases) {
        const answer = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${bearer}` } });
        expect(answer.statusCode, `GET ${url}: ${answer.body}`).toBe(400);
        const problem = JSON.parse(answer.body) as { field: string; rule: string; detail: string };
        const r = await cli([...args, '--json'], env);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        const refusal = JSON.parse(r.stderr) as { field: string; rule: string; message: string };
        // The API names the part of the request (querystring.status); the CLI the option (status).
        expect(refusal.message, args.join(' ')).toBe(problem.detail.replace(/^querystring\./, ''));
        expect(refusal.rule, args.join(' ')).toBe(problem.rule);
      }
      expect(await countEvents(t.core)).toBe(before);
    } finally {
      await app.close();
    }
  });

  it('prints money with separators and its currency, says why an order is held and what a delivery invoiced', async () => {
    const holds = await cli(['credit', 'holds'], env);
    expect(holds.code, holds.stderr).toBe(0);
    expect(holds.stdout).toContain('order 1  customer 1 Acme GmbH  total 1,200.00 EUR');
    expect(holds.stdout).toMatch(/\n {2}- exposure .* exceeds credit limit/);

    const decisions = await cli(['credit', 'decisions', '1'], env);
    expect(decisions.stdout).toContain('exposure 1,200.00 EUR vs limit 1,000.00 EUR');
    expect(decisions.stdout).not.toMatch(/\b120000\b|\b100000\b/);

    const delivered = await cli(['shipment', 'deliver', '1', '--signed-by', 'J. Doe'], env);
    expect(delivered.code, delivered.stderr).toBe(0);
    // 4 × 12.50 + 20 % tax, due after the customer's 30 days.
    expect(delivered.stdout).toContain('invoiced as INV-2026-000001: 60.00 EUR, due 2026-04-01');

    const yen = await cli(['payment', 'record', '--customer', '2', '--amount', '150000'], env);
    expect(yen.code, yen.stderr).toBe(0);
    expect(yen.stdout).toContain('150,000 JPY on 2026-03-02');
  });

  it('refuses an unknown customer, a bad amount or date before anything starts, and says it once', async () => {
    const before = await countEvents(t.core);
    const cases: [string[], number, string][] = [
      [['payment', 'record', '--customer', '99', '--amount', '10.00'], 3, 'customer 99 does not exist'],
      [['payment', 'record', '--customer', '1', '--amount', '12,50'], 2, 'amount must be a decimal amount with a dot, got "12,50"'],
      [['payment', 'record', '--customer', '2', '--amount', '12.50'], 2, 'amount has 2 decimals; JPY allows 0'],
      [['order', 'create', '--customer', '99', '--line', 'WIDGET:1'], 3, 'customer 99 does not exist'],
      [['order', 'create', '--customer', '1', '--line', 'WIDGET:1:9,99'], 2, 'lines.0.unitPrice must be a decimal amount with a dot'],
      [['order', 'create', '--customer', '1', '--line', 'NOPE:3'], 2, 'product NOPE does not exist'],
      [['pipeline', 'run', '--as-of', '2026-02-30', '--quiet'], 2, 'as-of must be a date written YYYY-MM-DD, got "2026-02-30"'],
    ];
    for (const [args, code, message] of cases) {
      const r = await cli(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
      expect(r.stderr.split(message).length - 1, `${args.join(' ')} says it once: ${r.stderr}`).toBe(1);
    }
    expect(await countEvents(t.core)).toBe(before);
    // The wrong date stopped the pipeline before it ingested anything.
    const duck = fs.readdirSync(t.dataDir, { recursive: true }).map(String).filter((f) => f.endsWith('.duckdb'));
    expect(duck.map((f) => path.basename(f))).toEqual([]);
  });

  it('prints the money a collections command takes, or ranks, with separators and its currency', async () => {
    // The held 1,200.00 EUR order, released, shipped and delivered: an invoice over a thousand.
    const released = await cli(['credit', 'release', '1', '--reason', 'paid in advance by arrangement'], env);
    expect(released.code, released.stderr).toBe(0);
    const shipment = await createShipment(t.core, { orderId: 1, carrier: 'DHL', trackingNumber: 'T9' }, actor);
    await deliverShipment(t.core, shipment.id, { signedBy: 'J. Doe' }, actor);
    const big = (await t.core.db.kysely.selectFrom('invoices').select('number').where('order_id', '=', 1).executeTakeFirstOrThrow()).number;

    const promise = await cli(['promise', 'add', '--customer', '1', '--date', '2026-04-15', '--invoice', big], env);
    expect(promise.code, promise.stderr).toBe(0);
    expect(promise.stdout).toContain('promise 1: 1,200.00 EUR by 2026-04-15');

    const work = await cli(['collections', 'worklist', '--as-of', '2026-05-01'], env);
    expect(work.code, work.stderr).toBe(0);
    expect(work.stdout).toContain('1,200.00 EUR');
    expect(work.stdout).not.toMatch(/\b1200\.00\b|\b120000\b/);

    // A dispute over 1,100.00 settled with a smaller credit note: both amounts said as money.
    const opened = await cli(['dispute', 'open', '--invoice', big, '--reason', 'ten widgets short', '--amount', '1100'], env);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toContain(`dispute 1 on ${big}: 1,100.00 EUR, open`);
    const credited = await cli(['dispute', 'resolve', '1', '--outcome', 'credit', '--amount', '150'], env);
    expect(credited.code, credited.stderr).toBe(0);
    expect(credited.stdout).toMatch(/credit note (CN-\d{4}-\d{6}); \1 credits 150\.00 EUR/);
  });
});
