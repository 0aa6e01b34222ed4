import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { cli, cliEnv } from '../helpers/cli.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey } from '../../src/api/keys.service.ts';

/** docs/collections.md, command by command: the CLI through the real binary, then the same over HTTP. */
describe(`collections walk-through on ${testDialect}`, { timeout: 300_000 }, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
  });
  afterAll(async () => t.cleanup());

  it('records a promise, opens and settles a dispute, runs reminders and works the worklist from the CLI', async () => {
    const env = cliEnv(t.url, t.dataDir, '2026-03-02T09:00:00Z');
    const later = cliEnv(t.url, t.dataDir, '2026-03-20T09:00:00Z');
    const run = async (args: string[], e = env) => {
      const r = await cli(args, e);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const json = async (args: string[], e = env) => JSON.parse(await run([...args, '--json'], e)) as Record<string, unknown>;
    await run(['customer', 'create', '--name', 'Acme GmbH', '--credit-limit', '5000', '--terms', '30', '--currency', 'EUR', '--email', 'ap@acme.example']);
    // Two open invoices from the legacy system, due in February.
    for (const [ref, due, amount] of [['7001', '2026-02-01', '400.00'], ['7002', '2026-02-20', '250.00']]) {
      const { importHistoricalInvoice } = await import('../../src/invoicing/invoice-import.service.ts');
      await importHistoricalInvoice(t.core, { customerId: 1, externalRef: ref!, invoiceDate: '2026-01-02', dueDate: due!, amount: amount! }, 'test');
    }
    expect(await run(['collections', 'assign', '--customer', '1', '--collector', 'dana'])).toContain('collector dana');
    const promise = await json(['promise', 'add', '--customer', '1', '--invoice', 'IMP-7002', '--date', '2026-03-10', '--by', 'Ann (AP)']);
    expect(promise).toMatchObject({ id: 1, amount: '250.00', status: 'open' });
    const dispute = await json(['dispute', 'open', '--invoice', 'IMP-7001', '--reason', 'one pallet damaged', '--amount', '80.00']);
    expect(dispute).toMatchObject({ id: 1, status: 'open', amount: '80.00' });
    const wl = await run(['collections', 'worklist', '--collector', 'dana']);
    expect(wl).toContain('ranked by days overdue × amount');
    expect(wl).toMatch(/IMP-7001.*open/);
    expect(await run(['collections', 'run', '--dry-run'])).toContain('0 reminders');
    expect(await run(['collections', 'log', '--customer', '1', '--kind', 'call', '--note', 'AP confirms the pallet claim', '--next-action', 'check credit note', '--next-on', '2026-03-05'])).toContain('logged call');
    expect((await json(['dispute', 'resolve', '1', '--outcome', 'credit', '--note', 'photos show the damage'])).creditNote).toBe('CN-2026-000001');
    const remind = await json(['collections', 'run'], later);
    expect(remind).toMatchObject({ promisesDecided: [{ id: 1, status: 'broken' }] });
    expect((remind.messages as { invoices: number; level: number }[]).map((m) => [m.invoices, m.level])).toEqual([[2, 4]]);
    const outbox = await run(['collections', 'outbox'], later);
    expect(outbox).toMatch(/reminder\s+1\s+2026-03-20\s+ap@acme.example\s+pending/);
    expect(await run(['collections', 'outbox', '--show', '1'], later)).toContain('IMP-7002');
    expect(await run(['collections', 'history', '--customer', '1'], later)).toMatch(/reminder[\s\S]*promise[\s\S]*call/);
    // The scheduler's collections jobs, once each: today's reminders are out already, February's statement is not.
    expect(await run(['schedule', '--once', 'reminders'], later)).toContain('reminders: succeeded (reminder run as of 2026-03-20: 0 reminders in the outbox)');
    expect(await run(['schedule', '--once', 'statement-run'], later)).toContain('statement-run: succeeded (statement run for 2026-02: 1 statements written, 0 already there)');
    // The job's former name still runs it, and says it is deprecated.
    const former = await cli(['schedule', '--once', 'statements'], later);
    expect(former.stdout).toContain('statement-run: succeeded (statement run for 2026-02: 0 statements written, 1 already there)');
    expect(former.stderr).toContain('job "statements" is deprecated: it is now "statement-run"');
    const bad = await cli(['promise', 'add', '--customer', '1', '--date', '2026-13-01'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('date must be a date written YYYY-MM-DD');
  });

  it('does the same over the API, each step allowed to the roles of the matrix', async () => {
    const app: FastifyInstance = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
    try {
      const key = async (role: string) => (await createApiKey(t.core, { role, name: `${role}-wt` }, 'test')).key;
      const collector = await key('collector');
      const finance = await key('finance');
      const call = (method: 'GET' | 'POST', url: string, k: string, payload?: object) => app.inject({ method, url, headers: { authorization: `Bearer ${k}` }, ...(payload ? { payload } : {}) });
      t.clock.set('2026-03-20T10:00:00Z');
      const p = await call('POST', '/promises', collector, { customerId: 1, date: '2026-03-27', invoices: ['IMP-7001'] });
      expect(p.statusCode, p.body).toBe(201);
      const d = await call('POST', '/disputes', collector, { invoice: 'IMP-7002', reason: 'not ordered' });
      expect(d.statusCode, d.body).toBe(201);
      expect((await call('POST', `/disputes/${d.json().id}/resolve`, collector, { outcome: 'reject' })).statusCode).toBe(403);
      expect((await call('POST', `/disputes/${d.json().id}/resolve`, finance, { outcome: 'reject', note: 'signed order on file' })).json().status).toBe('rejected');
      const w = (await call('GET', '/collections/worklist?collector=dana', collector)).json();
      expect(w.items.map((i: { invoice: string }) => i.invoice).sort()).toEqual(['IMP-7001', 'IMP-7002']);
      expect(w.items.find((i: { invoice: string }) => i.invoice === 'IMP-7001').promise.date).toBe('2026-03-27');
      expect((await call('POST', '/customers/1/collections', collector, { kind: 'email', note: 'sent copy of invoice' })).statusCode).toBe(201);
      expect((await call('GET', '/customers/1/collections', collector)).json().items[0]).toMatchObject({ kind: 'email' });
      const runDry = (await call('POST', '/collections/runs', collector, { dryRun: true, asOf: '2026-03-20' })).json();
      expect(runDry.dryRun).toBe(true);
      expect((await call('GET', '/collections/outbox?status=pending', collector)).json().items.map((m: { kind: string }) => m.kind)).toEqual(['reminder', 'statement']);
      const bad = await call('POST', '/promises', collector, { customerId: 1, date: '2026-03-01' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ field: 'date', rule: 'not_in_past' });
    } finally {
      await app.close();
    }
  });
});
