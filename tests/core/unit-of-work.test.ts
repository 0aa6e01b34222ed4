import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { inOneTransaction, openCore, closeCore, runChange, type Core } from '../../src/core.ts';
import { createCustomer, updateCustomer } from '../../src/customers/customer.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

async function count(core: Core, table: 'customers' | 'events'): Promise<number> {
  const r = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(core.db.kysely);
  return Number(r.rows[0]!.n);
}

describe(`several changes in one transaction: inOneTransaction (${testDialect})`, () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await createTestCore();
  });
  afterEach(async () => {
    await t.cleanup();
  });

  it('commits the changes together, each with its event, and reads its own writes inside', async () => {
    const seen = await inOneTransaction(t.core, async (unit) => {
      const a = await createCustomer(unit, { name: 'Alpha', currency: 'EUR', creditLimit: '1000' }, 'test');
      await updateCustomer(unit, a.id, { creditLimit: '2000' }, 'test');
      await createCustomer(unit, { name: 'Beta', currency: 'EUR' }, 'test');
      return { customers: await count(unit, 'customers'), limit: (await unit.db.kysely.selectFrom('customers').select('credit_limit_minor').where('id', '=', a.id).executeTakeFirstOrThrow()).credit_limit_minor };
    });
    expect(seen).toEqual({ customers: 2, limit: 200_000 });
    expect(await count(t.core, 'customers')).toBe(2);
    expect(await count(t.core, 'events')).toBe(3);
  });

  it('rolls back only the change that failed; the others commit', async () => {
    await inOneTransaction(t.core, async (unit) => {
      const a = await createCustomer(unit, { name: 'Alpha', currency: 'EUR' }, 'test');
      await expect(updateCustomer(unit, a.id, { creditLimit: '-5' }, 'test')).rejects.toBeInstanceOf(DomainError);
      await expect(createCustomer(unit, { name: '', currency: 'EUR' }, 'test')).rejects.toBeInstanceOf(DomainError);
      // A change that wrote before it failed: its write goes with it (its savepoint is rolled back).
      await expect(
        runChange(unit, 'test', async ({ trx }) => {
          await trx.updateTable('customers').set({ name: 'Changed' }).where('id', '=', a.id).execute();
          throw new Error('failed after writing');
        }),
      ).rejects.toThrow('failed after writing');
      expect((await unit.db.kysely.selectFrom('customers').select('name').where('id', '=', a.id).executeTakeFirstOrThrow()).name).toBe('Alpha');
      await createCustomer(unit, { name: 'Beta', currency: 'EUR' }, 'test');
    });
    expect((await t.core.db.kysely.selectFrom('customers').select(['name', 'credit_limit_minor']).orderBy('id').execute()).map((c) => c.name)).toEqual(['Alpha', 'Beta']);
    expect(await count(t.core, 'events')).toBe(2);
  });

  it('writes nothing when the batch fails: every change in it is rolled back with its events', async () => {
    await expect(
      inOneTransaction(t.core, async (unit) => {
        await createCustomer(unit, { name: 'Alpha', currency: 'EUR' }, 'test');
        await createCustomer(unit, { name: 'Beta', currency: 'EUR' }, 'test');
        throw new Error('the batch stops here');
      }),
    ).rejects.toThrow('the batch stops here');
    expect(await count(t.core, 'customers')).toBe(0);
    expect(await count(t.core, 'events')).toBe(0);
  });

  it('shows another connection nothing of the batch before it commits, then all of it', async () => {
    // A second connection to the same database, as another process would have.
    const other = await openCore({ url: t.url, migrate: false });
    try {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let written!: () => void;
      const wrote = new Promise<void>((resolve) => (written = resolve));
      const batch = inOneTransaction(t.core, async (unit) => {
        await createCustomer(unit, { name: 'Alpha', currency: 'EUR' }, 'test');
        await createCustomer(unit, { name: 'Beta', currency: 'EUR' }, 'test');
        written();
        await held;
      });
      await wrote;
      expect(await count(other, 'customers')).toBe(0);
      expect(await count(other, 'events')).toBe(0);
      release();
      await batch;
      expect(await count(other, 'customers')).toBe(2);
      expect(await count(other, 'events')).toBe(2);
    } finally {
      await closeCore(other);
    }
  });
});
