import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { cli, cliEnv } from '../helpers/cli.ts';

/** The README's walk-through, command by command, through the real binary. */
describe(`CLI walk-through on ${testDialect}`, { timeout: 300_000 }, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore();
  });
  afterAll(async () => t.cleanup());

  it('takes one order from entry through credit hold, partial shipment and payments to paid', async () => {
    const day1 = cliEnv(t.url, t.dataDir, '2026-03-02T09:00:00Z');
    const day9 = cliEnv(t.url, t.dataDir, '2026-03-10T09:00:00Z');
    const json = async (args: string[], env = day1) => {
      const r = await cli([...args, '--json'], env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return JSON.parse(r.stdout) as Record<string, unknown> & { lines?: Record<string, unknown>[] };
    };
    expect((await cli(['migrate'], day1)).code).toBe(0);
    const customer = await json(['customer', 'create', '--name', 'Acme GmbH', '--credit-limit', '1000', '--terms', '30', '--currency', 'EUR']);
    expect(customer).toMatchObject({ id: 1, creditLimitMinor: 100_000 });
    await json(['product', 'create', '--sku', 'WIDGET', '--name', 'Widget', '--price', '12.50', '--tax-rate', '20']);
    await json(['stock', 'receive', '--sku', 'WIDGET', '--qty', '50']);
    const order = await json(['order', 'create', '--customer', '1', '--line', 'WIDGET:80', '--idempotency-key', 'web-1001']);
    expect(order).toMatchObject({ status: 'draft', totalMinor: 120_000 });
    const retry = await json(['order', 'create', '--customer', '1', '--line', 'WIDGET:80', '--idempotency-key', 'web-1001']);
    expect(retry).toMatchObject({ id: order.id, created: false });

    const submitted = await json(['order', 'submit', '1']);
    expect(submitted.status).toBe('credit_hold');
    const human = await cli(['order', 'show', '1'], day1);
    expect(human.stdout).toContain('status credit_hold');

    expect((await json(['credit', 'release', '1', '--reason', 'long-standing customer'])).status).toBe('approved');
    const s1 = await json(['shipment', 'create', '--order', '1', '--carrier', 'DHL', '--tracking', '00340434']);
    expect(s1.lines).toEqual([{ sku: 'WIDGET', quantity: 50 }]);
    expect((await json(['order', 'show', '1'])).status).toBe('partially_shipped');
    expect((await json(['shipment', 'deliver', String(s1.id), '--signed-by', 'J. Doe'])).invoiceNumber).toBe('INV-2026-000001');
    await json(['stock', 'receive', '--sku', 'WIDGET', '--qty', '40']);
    const s2 = await json(['shipment', 'create', '--order', '1', '--carrier', 'DHL', '--tracking', '00340435'], day9);
    await json(['shipment', 'deliver', String(s2.id), '--signed-by', 'J. Doe'], day9);
    expect((await json(['order', 'show', '1'], day9)).status).toBe('invoiced');

    const p1 = await json(['payment', 'record', '--customer', '1', '--amount', '500', '--reference', 'INV-2026-000001'], day9);
    expect(p1.appliedMinor).toBe(50_000);
    // Lists print the API's list shape.
    const open = (await json(['invoice', 'list', '--open'], day9)) as unknown as { items: { number: string; balanceMinor: number; balance: string }[]; next: string | null };
    expect(open.next).toBeNull();
    expect(open.items.map((i) => i.balance)).toEqual(['250.00', '450.00']);
    expect(open.items.map((i) => [i.number, i.balanceMinor])).toEqual([['INV-2026-000001', 25_000], ['INV-2026-000002', 45_000]]);
    await json(['payment', 'record', '--customer', '1', '--amount', '700.00'], day9);
    expect((await json(['order', 'show', '1'], day9)).status).toBe('paid');
    const statement = await json(['account-statement', '--customer', '1'], day9);
    expect(statement.closingBalanceMinor).toBe(0);

    // exit codes: 2 invalid input, 3 not found, 4 invalid transition
    expect((await cli(['payment', 'record', '--customer', '1', '--amount', '5.001'], day9)).code).toBe(2);
    expect((await cli(['order', 'show', '99'], day9)).code).toBe(3);
    const refused = await cli(['order', 'cancel', '1', '--reason', 'x'], day9);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('order 1 cannot move from paid to cancelled');
  });
});
