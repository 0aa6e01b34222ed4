import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { cli, cliEnv } from '../helpers/cli.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey, createPortalToken, revokePortalTokens } from '../../src/api/keys.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';

/**
 * `--json` prints what the API answers for the same resource: the same fields, spelled the
 * same (camelCase), the same money twins, lists in the same `{ items, next }` envelope. Each
 * pair below is read from the CLI (a child process) and from the API (in process) on one core.
 */
describe(`the CLI's --json is the API's shape (${testDialect})`, { timeout: 240_000 }, () => {
  let t: TestCore;
  let env: Record<string, string>;
  let app: FastifyInstance;
  let bearer: string;
  let invoice: string;
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
    const shipment = await createShipment(core, { orderId: shipped.id, carrier: 'DHL', trackingNumber: 'T1' }, actor);
    await deliverShipment(core, shipment.id, { signedBy: 'J. Doe' }, actor);
    invoice = (await core.db.kysely.selectFrom('invoices').select('number').executeTakeFirstOrThrow()).number;
    await recordPayment(core, { customerId: acme.id, amount: '20.00', reference: invoice }, actor);
    // A second, smaller invoice (15.00): the worklist ranks two items, the 40.00 still owed first.
    const small = await createOrder(core, { customerId: acme.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    await submitOrder(core, small.id, actor);
    await deliverShipment(core, (await createShipment(core, { orderId: small.id, carrier: 'DHL', trackingNumber: 'T2' }, actor)).id, { signedBy: 'J. Doe' }, actor);
    // Portal tokens of Acme: one withdrawn, one working.
    await createPortalToken(core, acme.id, actor);
    await revokePortalTokens(core, acme.id, actor);
    await createPortalToken(core, acme.id, actor, { days: 30 });
    app = await buildServer(core, { rateLimitPerMinute: 1_000_000 });
    bearer = (await createApiKey(core, { role: 'admin', name: 'shapes' }, actor)).key;
  });
  afterAll(async () => {
    await app?.close();
    await t.cleanup();
  });

  const api = async (url: string) => {
    const r = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${bearer}` } });
    expect(r.statusCode, r.body).toBe(200);
    return JSON.parse(r.body) as unknown;
  };
  const json = async (args: string[]) => {
    const r = await cli([...args, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as unknown;
  };

  it('order, invoice, customer, worklist row and credit hold read the same from both faces', async () => {
    const pairs: [string[], string][] = [
      [['order', 'show', '2'], '/orders/2'],
      [['order', 'list'], '/orders'],
      [['invoice', 'show', invoice], `/invoices/${invoice}`],
      [['customer', 'show', '1'], '/customers/1'],
      [['customer', 'list'], '/customers'],
      [['collections', 'worklist', '--as-of', '2026-05-01'], '/collections/worklist?asOf=2026-05-01'],
      [['credit', 'holds'], '/credit/holds'],
      [['credit', 'decisions', '1'], '/orders/1/credit-decisions'],
      [['credit', 'holds', '--limit', '1'], '/credit/holds?limit=1'],
      [['collections', 'worklist', '--as-of', '2026-05-01', '--limit', '1'], '/collections/worklist?asOf=2026-05-01&limit=1'],
      [['collections', 'worklist', '--as-of', '2026-05-01', '--after', '1', '--limit', '1'], '/collections/worklist?asOf=2026-05-01&after=1&limit=1'],
      [['customer', 'portal-token', '1', '--list'], '/customers/1/portal-tokens'],
    ];
    for (const [args, url] of pairs) {
      const [fromCli, fromApi] = [await json(args), await api(url)];
      expect(fromCli, `cashloop ${args.join(' ')} --json vs GET ${url}`).toEqual(fromApi);
    }
  });

  it('the shapes carry what a client needs: camelCase, money twins, the list envelope', async () => {
    const holds = (await json(['credit', 'holds'])) as { items: Record<string, unknown>[]; next: string | null };
    expect(holds.next).toBeNull();
    expect(holds.items).toHaveLength(1);
    expect(holds.items[0]).toMatchObject({ id: 1, customerId: 1, customerName: 'Acme GmbH', currency: 'EUR', totalMinor: 120000, total: '1200.00' });
    expect(holds.items[0]!.reasons).toEqual([expect.stringMatching(/exceeds credit limit/)]);
    expect(Object.keys(holds.items[0]!).filter((k) => k.includes('_'))).toEqual([]);
    const row = ((await json(['collections', 'worklist', '--as-of', '2026-05-01'])) as { items: Record<string, unknown>[] }).items[0]!;
    // 60.00 invoiced, 20.00 paid.
    expect(row).toMatchObject({ invoice, balanceMinor: 4000, balance: '40.00', currency: 'EUR' });
  });

  it('pages the worklist the same way from both faces: a position as next, the whole ranking counted', async () => {
    const first = (await json(['collections', 'worklist', '--as-of', '2026-05-01', '--limit', '1'])) as { items: { rank: number; balance: string }[]; next: string | null; totalItems: number };
    expect(first).toMatchObject({ next: '1', totalItems: 2 });
    expect(first.items.map((i) => [i.rank, i.balance])).toEqual([[1, '40.00']]);
    const second = (await json(['collections', 'worklist', '--as-of', '2026-05-01', '--after', first.next!, '--limit', '1'])) as typeof first;
    expect(second).toMatchObject({ next: null, totalItems: 2 });
    expect(second.items.map((i) => [i.rank, i.balance])).toEqual([[2, '15.00']]);
  });

  it('lists API keys and portal tokens in the list envelope, and never prints a secret', async () => {
    const keys = await cli(['apikey', 'list', '--json'], env);
    expect(keys.code, keys.stderr).toBe(0);
    const keyList = JSON.parse(keys.stdout) as { items: Record<string, unknown>[]; next: string | null };
    expect(keyList.next).toBeNull();
    expect(keyList.items).toEqual([{ id: 1, name: 'shapes', role: 'admin', createdAt: expect.any(String), revokedAt: null, expiresAt: null }]);
    expect(keys.stdout).not.toContain(bearer);

    const tokens = await cli(['customer', 'portal-token', '1', '--list', '--json'], env);
    expect(tokens.code, tokens.stderr).toBe(0);
    const tokenList = JSON.parse(tokens.stdout) as { items: Record<string, unknown>[]; next: string | null };
    expect(tokenList.items.map((t) => [t.id, t.customerId, t.status])).toEqual([[1, 1, 'revoked'], [2, 1, 'live']]);
    // Exactly the fields of the API's portal token schema: no token, no hash.
    for (const t of tokenList.items) expect(Object.keys(t).sort()).toEqual(['createdAt', 'customerId', 'expiresAt', 'id', 'revokedAt', 'status']);
    const hashes = (await t.core.db.kysely.selectFrom('portal_tokens').select('token_hash').execute()).map((r) => r.token_hash);
    for (const h of hashes) expect(tokens.stdout).not.toContain(h);
  });
});
