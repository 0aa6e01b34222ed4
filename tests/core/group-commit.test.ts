import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestCore, type TestCore } from '../helpers/db.ts';
import { GROUP_COMMIT_MAX_WAIT_MS, groupCommitStats, runChange, writeInGroup } from '../../src/core.ts';
import { readEvents } from '../../src/events/event.repository.ts';

/**
 * SQLite's group commit (src/core.ts): changes that arrive together share one transaction
 * and one synced commit, each in its own savepoint. SQLite only (PostgreSQL commits each
 * change in its own transaction and groups syncs by itself).
 */
describe('group commit on SQLite', () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z', 'sqlite');
    await sql`create table gc_probe (name text primary key)`.execute(t.core.db.kysely);
  });
  afterAll(async () => t.cleanup());

  const names = async () => (await sql<{ name: string }>`select name from gc_probe order by name`.execute(t.core.db.kysely)).rows.map((r) => r.name);

  it('commits concurrent changes together, and a failing change takes back only its own writes', async () => {
    const before = groupCommitStats(t.core);
    const eventsBefore = (await readEvents(t.core.db.kysely, 0)).length;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        runChange(t.core, 'test', async ({ trx }) => {
          await sql`insert into gc_probe (name) values (${`p${String(i).padStart(2, '0')}`})`.execute(trx);
          // Every third change fails after writing: its row and event must not survive.
          if (i % 3 === 0) throw new Error(`change ${i} fails`);
          return { result: i, events: [{ type: 'probe.written', aggregate: 'probe', id: i, after: {} }] };
        }),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed).toEqual([0, 3, 6, 9, 12, 15, 18]);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value)).toEqual([1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19]);
    expect(await names()).toEqual(['p01', 'p02', 'p04', 'p05', 'p07', 'p08', 'p10', 'p11', 'p13', 'p14', 'p16', 'p17', 'p19']);
    const events = (await readEvents(t.core.db.kysely, 0)).slice(eventsBefore);
    expect(events.map((e) => Number(e.aggregate_id))).toEqual([1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19]);
    const after = groupCommitStats(t.core);
    expect(after.changes - before.changes).toBe(20);
    // Twenty changes asked for at once share one commit.
    expect(after.commits - before.commits).toBe(1);
  });

  it('rolls back an unchanged outcome alone and answers its result', async () => {
    const [kept, unchanged] = await Promise.all([
      runChange(t.core, 'test', async ({ trx }) => {
        await sql`insert into gc_probe (name) values ('kept')`.execute(trx);
        return { result: 'kept', events: [{ type: 'probe.written', aggregate: 'probe', id: 'kept', after: {} }] };
      }),
      runChange(t.core, 'test', async ({ trx }) => {
        await sql`insert into gc_probe (name) values ('undone')`.execute(trx);
        return { result: 'found', events: [], unchanged: true };
      }),
    ]);
    expect([kept, unchanged]).toEqual(['kept', 'found']);
    const now = await names();
    expect(now).toContain('kept');
    expect(now).not.toContain('undone');
  });

  it('lets bookkeeping without an event (writeInGroup) share the commit, a failing one taking back only its own row', async () => {
    const before = groupCommitStats(t.core);
    const results = await Promise.allSettled([
      runChange(t.core, 'test', async ({ trx }) => {
        await sql`insert into gc_probe (name) values ('change')`.execute(trx);
        return { result: 'change', events: [{ type: 'probe.written', aggregate: 'probe', id: 'change', after: {} }] };
      }),
      writeInGroup(t.core, async (db) => {
        await sql`insert into gc_probe (name) values ('note')`.execute(db);
        return 'note';
      }),
      writeInGroup(t.core, async (db) => {
        await sql`insert into gc_probe (name) values ('bad note')`.execute(db);
        throw new Error('bookkeeping fails');
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const now = await names();
    expect(now).toEqual(expect.arrayContaining(['change', 'note']));
    expect(now).not.toContain('bad note');
    const after = groupCommitStats(t.core);
    // One synced commit for the change and the bookkeeping together.
    expect(after.commits - before.commits).toBe(1);
    expect(after.changes - before.changes).toBe(1);
    expect(after.writes - before.writes).toBe(2);
  });

  it('answers a change only once its commit is done: what it wrote is readable from another connection then', async () => {
    const SQLite = (await import('better-sqlite3')).default;
    const other = new SQLite(t.url.replace(/^sqlite:/, ''), { readonly: true });
    try {
      const seen = await Promise.all(
        Array.from({ length: 5 }, async (_, i) => {
          await runChange(t.core, 'test', async ({ trx }) => {
            await sql`insert into gc_probe (name) values (${`seen${i}`})`.execute(trx);
            return { result: i, events: [{ type: 'probe.written', aggregate: 'probe', id: i, after: {} }] };
          });
          return other.prepare('select count(*) as n from gc_probe where name = ?').get(`seen${i}`) as { n: number };
        }),
      );
      expect(seen.map((r) => r.n)).toEqual([1, 1, 1, 1, 1]);
    } finally {
      other.close();
    }
  });
});

describe('group commit on SQLite beside reads that never yield', () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z', 'sqlite');
    await sql`create table gc_busy (n integer not null)`.execute(t.core.db.kysely);
  });
  afterAll(async () => t.cleanup());

  it('commits a queued change after its maximum wait even when readers never let the event loop come round', async () => {
    // SQLite's driver answers in the same turn, so these readers run on microtasks alone and
    // the event loop, where a group is normally started, never comes round while they read.
    let writing = true;
    let starved = false;
    let reads = 0;
    const readers = Array.from({ length: 3 }, async () => {
      while (writing) {
        await sql`select count(*) as n from gc_busy`.execute(t.core.db.kysely);
        // A backstop so that, without the guard, the readers give up and the test fails instead of hanging.
        if (++reads > 200_000) {
          starved = true;
          writing = false;
        }
      }
    });
    const started = performance.now();
    const written = runChange(t.core, 'test', async ({ trx }) => {
      await sql`insert into gc_busy (n) values (1)`.execute(trx);
      return { result: 'written', events: [{ type: 'probe.written', aggregate: 'probe', id: 'busy', after: {} }] };
    }).finally(() => {
      writing = false;
    });
    await Promise.all(readers);
    expect(starved).toBe(false);
    await expect(written).resolves.toBe('written');
    // It waited about the maximum wait, not for the readers to stop (they stop only once it is done).
    expect(performance.now() - started).toBeLessThan(GROUP_COMMIT_MAX_WAIT_MS + 2_000);
    const rows = (await sql<{ n: number }>`select count(*) as n from gc_busy`.execute(t.core.db.kysely)).rows;
    expect(rows[0]!.n).toBe(1);
  }, 60_000);
});
