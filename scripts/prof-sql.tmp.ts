import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
const stats = new Map<string, { n: number; ms: number }>();
const proto = (Database as unknown as { prototype: { prepare: (sql: string) => unknown } }).prototype;
const origPrepare = proto.prepare;
proto.prepare = function (this: unknown, sql: string) {
  const st = origPrepare.call(this, sql) as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['all', 'run', 'get', 'iterate']) {
    const f = st[m]!;
    st[m] = (...a: unknown[]) => {
      const t = performance.now();
      try { return f.apply(st, a); } finally {
        const e = stats.get(sql.slice(0, 110)) ?? { n: 0, ms: 0 };
        e.n++; e.ms += performance.now() - t; stats.set(sql.slice(0, 110), e);
      }
    };
  }
  return st;
};
const { openCore } = await import('../src/core.ts');
const { createCustomer } = await import('../src/customers/customer.service.ts');
const { createProduct } = await import('../src/catalog/product.service.ts');
const { createOrder } = await import('../src/orders/order.service.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-prof-'));
const core = await openCore({ url: `sqlite:${path.join(dir, 'c.db')}` });
const c = (await createCustomer(core, { name: 'P', creditLimit: '1000000', currency: 'EUR' }, 'b')).id;
await createProduct(core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' }, 'b');
stats.clear();
const N = 1000;
const t = performance.now();
for (let i = 0; i < N; i++) await createOrder(core, { customerId: c, lines: [{ sku: 'WIDGET', quantity: 2 }] }, 'b');
console.log('service', (performance.now() - t) / N, 'ms/order');
for (const [s, e] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) console.log((e.ms / N).toFixed(3), 'ms/order', e.n, s.replace(/\s+/g, ' '));
