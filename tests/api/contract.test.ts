import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey, createPortalToken } from '../../src/api/keys.service.ts';

/**
 * One contract for every list the API answers, read from the OpenAPI document and then
 * checked on the live answers: `{ items, next }` with `?after=` and `?limit=`, field names in
 * camelCase, and every amount in minor units beside the same money written with its
 * currency's exponent. A new list route must be added to LIVE below, or this test fails.
 */
type Json = Record<string, unknown>;

/** Decimals per currency, written out here so the check does not lean on the code it checks. */
const DECIMALS: Record<string, number> = { EUR: 2, JPY: 0 };
const CAMEL = /^[a-z][A-Za-z0-9]*$/;

/** Every object in a JSON value with the currency in force around it. */
function* objects(value: unknown, currency?: string, where = '$'): Generator<{ obj: Json; currency?: string; where: string }> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* objects(v, currency, `${where}[${i}]`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const obj = value as Json;
  const own = typeof obj.currency === 'string' ? obj.currency : currency;
  yield { obj, currency: own, where };
  for (const [k, v] of Object.entries(obj)) yield* objects(v, own, `${where}.${k}`);
}

/** What is wrong with one answer's faces: names, money. Empty when it keeps the contract. */
function faceProblems(body: unknown): string[] {
  const out: string[] = [];
  for (const { obj, currency, where } of objects(body)) {
    for (const [key, v] of Object.entries(obj)) {
      if (!CAMEL.test(key)) out.push(`${where}.${key} is not camelCase`);
      if (!key.endsWith('Minor') || typeof v !== 'number') continue;
      const twin = key.slice(0, -'Minor'.length);
      if (!currency) {
        out.push(`${where}.${key} has no currency around it`);
        continue;
      }
      const decimals = DECIMALS[currency];
      const written = obj[twin];
      const shape = decimals === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${decimals}}$`);
      if (typeof written !== 'string' || !shape.test(written) || BigInt(written.replace('.', '')) !== BigInt(v)) {
        out.push(`${where}.${twin} should write ${key} ${v} in ${currency}, is ${JSON.stringify(written)}`);
      }
    }
  }
  return out;
}

/** Property names of a JSON schema, all the way down. */
function schemaNames(schema: unknown, where = '$'): string[] {
  if (!schema || typeof schema !== 'object') return [];
  const s = schema as Json;
  const names: string[] = [];
  for (const [k, v] of Object.entries((s.properties as Json | undefined) ?? {})) names.push(`${where}.${k}`, ...schemaNames(v, `${where}.${k}`));
  if (s.items) names.push(...schemaNames(s.items, `${where}[]`));
  for (const alt of [...((s.anyOf as unknown[]) ?? []), ...((s.allOf as unknown[]) ?? [])]) names.push(...schemaNames(alt, where));
  return names;
}

describe(`one contract for every list (${testDialect})`, { timeout: 120_000 }, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let admin: string;
  let portalToken: string;
  let ids: { customer: number; order: number };

  const call = (method: string, url: string, body?: unknown, bearer = admin) =>
    app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${bearer}` }, ...(body === undefined ? {} : { payload: body as object }) });
  const post = async (url: string, body: unknown = {}) => {
    const r = await call('POST', url, body);
    expect(r.statusCode, `${url}: ${r.body}`).toBeLessThan(300);
    return r.json() as Json;
  };

  beforeAll(async () => {
    t = await createTestCore('2026-04-15T09:00:00Z');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
    admin = (await createApiKey(t.core, { role: 'admin', name: 'contract' }, 'test')).key;
    // Two customers in currencies of different exponents, each with an order held, released,
    // shipped twice and invoiced, a payment, a promise, a dispute and a log entry.
    const eur = await post('/customers', { name: 'Acme GmbH', creditLimit: '100', currency: 'EUR' });
    const jpy = await post('/customers', { name: 'Sakura KK', creditLimit: '1000', currency: 'JPY' });
    await post('/products', { sku: 'WIDGET', name: 'Widget', price: '12.50', currency: 'EUR' });
    await post('/products', { sku: 'KOMA', name: 'Koma', price: '1250', currency: 'JPY' });
    await post('/stock/receipts', { sku: 'WIDGET', quantity: 100 });
    await post('/stock/receipts', { sku: 'KOMA', quantity: 100 });
    let first = 0;
    for (const [c, sku] of [[eur, 'WIDGET'], [jpy, 'KOMA']] as const) {
      const customerId = c.id as number;
      for (let n = 0; n < 2; n++) {
        const o = await post('/orders', { customerId, lines: [{ sku, quantity: 10 }] });
        first ||= o.id as number;
        await post(`/orders/${o.id}/submit`);
        if (n === 0) {
          await post(`/orders/${o.id}/release`, { reason: 'known customer' });
          for (const qty of [4, 6]) {
            const s = await post('/shipments', { orderId: o.id, carrier: 'DHL', trackingNumber: `T${o.id}-${qty}`, lines: [{ sku, quantity: qty }] });
            await post(`/shipments/${s.id}/deliver`, { signedBy: 'J. Doe' });
          }
        }
      }
      await post('/payments', { customerId, amount: sku === 'KOMA' ? '500' : '3.00' });
      await post('/payments', { customerId, amount: sku === 'KOMA' ? '70' : '0.70' });
      const invoices = (await call('GET', `/invoices?customerId=${customerId}`)).json().items as { number: string }[];
      await post('/promises', { customerId, date: '2026-05-01', invoices: [invoices[1]!.number] });
      await post('/promises', { customerId, date: '2026-05-20', invoices: [invoices[0]!.number] });
      await post('/disputes', { invoice: invoices[0]!.number, reason: 'two boxes damaged' });
      await post('/disputes', { invoice: invoices[1]!.number, reason: 'price' });
      await post(`/customers/${customerId}/collections`, { kind: 'call', note: 'will pay' });
      await post(`/customers/${customerId}/collections`, { kind: 'note', note: 'asked for a copy' });
      await post(`/customers/${customerId}/portal-tokens`, {});
      await post(`/customers/${customerId}/portal-tokens`, {});
    }
    await post('/collections/statement-runs', { month: '2026-04' });
    await post('/collections/policies', { name: 'strict', levels: [{ name: 'Reminder', days: 7, fee: '5.00' }] });
    ids = { customer: eur.id as number, order: first };
    portalToken = (await createPortalToken(t.core, ids.customer, 'test')).token;
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
  });

  /** Every list route with a URL that finds documents in it. */
  const LIVE = (): Record<string, { url: string; bearer?: string }> => ({
    'GET /customers': { url: '/customers' },
    'GET /products': { url: '/products' },
    'GET /orders': { url: '/orders' },
    'GET /orders/{id}/history': { url: `/orders/${ids.order}/history` },
    'GET /orders/{id}/credit-decisions': { url: `/orders/${ids.order}/credit-decisions` },
    'GET /credit/holds': { url: '/credit/holds' },
    'GET /invoices': { url: '/invoices' },
    'GET /payments': { url: '/payments' },
    'GET /collections/worklist': { url: '/collections/worklist?asOf=2026-06-30' },
    'GET /collections/outbox': { url: '/collections/outbox' },
    'GET /customers/{id}/collections': { url: `/customers/${ids.customer}/collections` },
    'GET /collections/policies': { url: '/collections/policies' },
    'GET /promises': { url: '/promises' },
    'GET /disputes': { url: '/disputes' },
    'GET /customers/{id}/portal-tokens': { url: `/customers/${ids.customer}/portal-tokens` },
    'GET /portal/api/orders': { url: '/portal/api/orders', bearer: portalToken },
    'GET /portal/api/invoices': { url: '/portal/api/invoices', bearer: portalToken },
    'GET /portal/api/payments': { url: '/portal/api/payments', bearer: portalToken },
  });

  /** The list routes of the OpenAPI document: every GET whose answer is an array or holds `items`. */
  async function listRoutes(): Promise<Map<string, { schema: Json; params: Json[] }>> {
    const doc = (await call('GET', '/openapi.json')).json() as { paths: Record<string, Record<string, Json>> };
    const lists = new Map<string, { schema: Json; params: Json[] }>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      const op = ops.get;
      if (!op) continue;
      const content = ((op.responses as Json)['200'] as Json | undefined)?.content as Record<string, { schema?: Json }> | undefined;
      const schema = content?.['application/json']?.schema;
      // Documents (PDF) answer bytes; every JSON answer declares its schema.
      if (!schema && !/[./]pdf$/.test(path)) throw new Error(`GET ${path} declares no answer`);
      if (schema && (schema.type === 'array' || (schema.properties as Json | undefined)?.items)) lists.set(`GET ${path}`, { schema, params: (op.parameters as Json[] | undefined) ?? [] });
    }
    return lists;
  }

  it('the OpenAPI document gives every list one shape, one paging and camelCase names', async () => {
    const lists = await listRoutes();
    expect([...lists.keys()].sort()).toEqual(Object.keys(LIVE()).sort());
    for (const [route, { schema, params }] of lists) {
      expect(schema.type, `${route} answers an object, not a bare array`).toBe('object');
      const props = schema.properties as Record<string, Json>;
      expect(props.items!.type, route).toBe('array');
      const next = props.next!;
      // A string or null, written either way OpenAPI 3 allows.
      const nextTypes = next.anyOf ? (next.anyOf as Json[]).map((s) => (s.nullable ? `${String(s.type)}|null` : s.type)).join('|').split('|').sort() : [next.type, ...(next.nullable ? ['null'] : [])].sort();
      expect(nextTypes, `${route} next`).toEqual(['null', 'string']);
      expect(schema.required, route).toEqual(expect.arrayContaining(['items', 'next']));
      const query = params.filter((p) => p.in === 'query').map((p) => p.name);
      expect(query, `${route} pages with ?after= and ?limit=`).toEqual(expect.arrayContaining(['after', 'limit']));
      for (const name of schemaNames(schema)) expect(name.split('.').at(-1), `${route} ${name}`).toMatch(CAMEL);
    }
  });

  it('every list answers that shape live: camelCase, money in units by its currency, pages that follow on', async () => {
    const jpySeen: string[] = [];
    for (const [route, { url, bearer }] of Object.entries(LIVE())) {
      const r = await call('GET', url, undefined, bearer);
      expect(r.statusCode, `${route}: ${r.body}`).toBe(200);
      const body = r.json() as { items: Json[]; next: string | null };
      expect(Array.isArray(body.items), route).toBe(true);
      expect(body.items.length, `${route} finds the seeded documents`).toBeGreaterThanOrEqual(2);
      expect(body.next, `${route}: the whole list fits the default page`).toBeNull();
      expect(faceProblems(body), route).toEqual([]);
      if (JSON.stringify(body).includes('"JPY"')) jpySeen.push(route);

      // A page of one, then the next from its cursor: a different document, the same shape.
      const sep = url.includes('?') ? '&' : '?';
      const one = (await call('GET', `${url}${sep}limit=1`, undefined, bearer)).json() as { items: Json[]; next: string | null };
      expect(one.items, route).toHaveLength(1);
      expect(one.next, `${route} has a next page`).toEqual(expect.any(String));
      const two = (await call('GET', `${url}${sep}limit=1&after=${one.next}`, undefined, bearer)).json() as { items: Json[]; next: string | null };
      expect(two.items, route).toHaveLength(1);
      expect(two.items[0], `${route} second page`).not.toEqual(one.items[0]);
      expect(two.items[0], `${route} second page is the list's second`).toEqual(body.items[1]);
    }
    // Yen amounts are written without decimals: the check above saw them.
    expect(jpySeen).toEqual(expect.arrayContaining(['GET /invoices', 'GET /payments', 'GET /orders', 'GET /credit/holds']));
  });

  it('answers the old names of the renamed statement paths with 308 to the new, query and method kept', async () => {
    const id = ids.customer;
    for (const [method, from, to, bearer] of [
      ['GET', `/customers/${id}/statement?from=2026-04-01`, `/customers/${id}/account-statement?from=2026-04-01`, admin],
      ['GET', `/customers/${id}/statement.pdf`, `/customers/${id}/account-statement.pdf`, admin],
      ['POST', '/collections/statements', '/collections/statement-runs', admin],
      ['GET', '/portal/api/statement', '/portal/api/account-statement', portalToken],
    ] as const) {
      const r = await call(method, from, method === 'POST' ? { month: '2026-04', dryRun: true } : undefined, bearer);
      expect(r.statusCode, from).toBe(308);
      expect(r.headers.location, from).toBe(to);
    }
    expect((await call('GET', `/customers/${id}/statement`, undefined, portalToken)).statusCode).toBe(401);
    // A retry key sent to the old path is not spent there: the new path takes it.
    const keyed = (url: string) => app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${admin}`, 'idempotency-key': 'statement-run-1' }, payload: { month: '2026-04', dryRun: true } });
    expect((await keyed('/collections/statements')).statusCode).toBe(308);
    expect((await keyed('/collections/statement-runs')).statusCode).toBe(200);
    const doc = (await call('GET', '/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => /\/statements?(\.pdf)?$/.test(p))).toEqual([]);
  });

  it('writes yen without decimals and euros with two, beside the minor units', async () => {
    const payments = (await call('GET', '/payments')).json().items as Json[];
    expect(payments.map((p) => [p.currency, p.amountMinor, p.amount])).toEqual(
      expect.arrayContaining([['EUR', 300, '3.00'], ['JPY', 500, '500']]),
    );
  });
});
