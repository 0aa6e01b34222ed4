import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';
import { runMonthlyStatements } from '../../src/collections/statement-run.service.ts';

/**
 * Two reminder runs (or two statement runs) started together on PostgreSQL both read that no
 * letter is written yet. A third session holds the table each run writes after its letter,
 * so both have inserted their letter before either can commit: the outbox's unique key must
 * let exactly one through, and the other run skips the customer instead of failing.
 */
describe.runIf(testDialect === 'postgres')('reminder and statement runs racing on one customer', () => {
  let t: TestCore;
  let customerId: number;
  beforeEach(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z');
    customerId = (await seedBasics(t.core, { creditLimit: '100000', customer: { name: 'Racing GmbH', email: 'ap@racing.example' } })).customer.id;
    await importHistoricalInvoice(t.core, { customerId, externalRef: 'R1', invoiceDate: '2025-12-11', dueDate: '2026-01-10', amount: '100.00' }, actor);
    await importHistoricalInvoice(t.core, { customerId, externalRef: 'R2', invoiceDate: '2026-01-02', dueDate: '2026-02-01', amount: '250.00' }, actor);
    await setSetting(t.core, 'company.name', 'Cashloop Demo GmbH', actor);
    t.clock.set('2026-02-27T08:00:00Z');
  });
  afterEach(async () => t.cleanup());

  /** Runs `race` while another session holds `table` exclusively for 400 ms. */
  async function whileHeld<T>(table: string, race: () => Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
    const blocker = new pg.Client({ connectionString: t.url });
    await blocker.connect();
    try {
      await blocker.query('begin');
      await blocker.query(`lock table ${table} in exclusive mode`);
      const settled = Promise.allSettled(race());
      await new Promise((r) => setTimeout(r, 400));
      await blocker.query('commit');
      return await settled;
    } finally {
      await blocker.end();
    }
  }

  /** A count over the customer's rows: `$1` is the customer. */
  async function count(text: string): Promise<number> {
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    try {
      return Number((await c.query<{ n: string }>(text, [customerId])).rows[0]!.n);
    } finally {
      await c.end();
    }
  }

  it('writes one reminder letter and one set of notices when two runs meet', async () => {
    const settled = await whileHeld('dunning_notices', () => [1, 2].map(() => runReminders(t.core, actor, { asOf: '2026-02-27', customerIds: [customerId], send: false })));
    for (const s of settled) expect(s.status, s.status === 'rejected' ? String(s.reason) : '').toBe('fulfilled');
    const letters = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value.messages : []));
    expect(letters, 'one run wrote the letter, the other skipped it').toHaveLength(1);
    expect(await count(`select count(*) as n from outbox_messages where kind = 'reminder' and customer_id = $1`)).toBe(1);
    expect(await count(`select count(*) as n from dunning_notices where customer_id = $1`)).toBe(letters[0]!.newNotices);
    expect(await count(`select count(*) as n from events where event_type = 'dunning.reminder_created' and aggregate_id = $1::text`)).toBe(1);
  });

  it('writes one monthly statement when two runs meet', async () => {
    const settled = await whileHeld('collection_actions', () => [1, 2].map(() => runMonthlyStatements(t.core, actor, { month: '2026-01', customerIds: [customerId] })));
    for (const s of settled) expect(s.status, s.status === 'rejected' ? String(s.reason) : '').toBe('fulfilled');
    const written = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value.statements : []));
    expect(written, 'one run wrote the statement').toHaveLength(1);
    expect(settled.reduce((n, s) => n + (s.status === 'fulfilled' ? s.value.skipped : 0), 0), 'the other skipped it').toBe(1);
    expect(await count(`select count(*) as n from outbox_messages where kind = 'statement' and customer_id = $1`)).toBe(1);
  });
});
