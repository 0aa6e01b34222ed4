import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { cli, cliEnv } from '../helpers/cli.ts';

/** Past a bound, the CLI exits 2 (invalid input) naming the field and the rule, like the API's 400. */
describe(`CLI bounds on ${testDialect}`, { timeout: 120_000 }, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore();
  });
  afterAll(async () => t.cleanup());

  it('exits 2 on amounts, quantities, ids and page sizes out of range', async () => {
    const env = cliEnv(t.url, t.dataDir, '2026-03-02T09:00:00Z');
    const ok = await cli(['customer', 'create', '--name', 'Acme GmbH', '--credit-limit', '99999999999.99', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ creditLimitMinor: 9_999_999_999_999 });
    const cases: [string[], RegExp][] = [
      [['customer', 'create', '--name', 'Over', '--credit-limit', '100000000000'], /creditLimit must be at most 99999999999\.99 EUR/],
      [['product', 'create', '--sku', 'W', '--name', 'W', '--price', '90071992547409.93'], /price must be at most/],
      [['stock', 'receive', '--sku', 'W', '--qty', '2147483648'], /quantity must be at most 999999999/],
      [['customer', 'show', '2147483648'], /customerId must be at most 2147483647/],
      [['customer', 'list', '--limit', 'abc'], /limit must be a whole number/],
      [['order', 'list', '--after', '99999999999'], /after must be at most 2147483647/],
      [['invoice', 'list', '--customer', '2147483648'], /customer must be at most 2147483647/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});
