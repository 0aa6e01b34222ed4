import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepared, preparedByShape } from '../../src/db/prepared.ts';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';

/** Statements built once (src/db/prepared.ts), on the suite's database (SQLite or PostgreSQL). */
describe(`prepared queries (${testDialect})`, () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await createTestCore();
    await t.core.db.kysely
      .insertInto('settings')
      .values([
        { key: 'a.one', value: '1', updated_at: '2026-01-01T00:00:00Z' },
        { key: 'a.two', value: '2', updated_at: '2026-01-02T00:00:00Z' },
        { key: 'b.three', value: '3', updated_at: '2026-01-03T00:00:00Z' },
      ])
      .execute();
  });
  afterEach(() => t.cleanup());

  // A constant of the query ('2026-01-02…') beside two arguments, one used twice.
  const byPrefix = prepared((db, _d, prefix: string, value: string) =>
    db
      .selectFrom('settings')
      .select(['key', 'value'])
      .where('key', 'like', prefix)
      .where((eb) => eb.or([eb('value', '=', value), eb('updated_at', '>=', '2026-01-02T00:00:00Z'), eb('key', '=', prefix)]))
      .orderBy('key'),
  );

  it('answers the rows the query builder answers, for each call’s arguments', async () => {
    const db = t.core.db.kysely;
    for (const [prefix, value] of [['a.%', '1'], ['a.%', '9'], ['b.%', '3'], ['c.%', '1']] as const) {
      const built = await db
        .selectFrom('settings')
        .select(['key', 'value'])
        .where('key', 'like', prefix)
        .where((eb) => eb.or([eb('value', '=', value), eb('updated_at', '>=', '2026-01-02T00:00:00Z'), eb('key', '=', prefix)]))
        .orderBy('key')
        .execute();
      expect(await byPrefix.execute(db, prefix, value)).toEqual(built);
    }
    expect(await byPrefix.first(db, 'a.%', '1')).toEqual({ key: 'a.one', value: '1' });
    expect(await byPrefix.first(db, 'z.%', '1')).toBeUndefined();
    await expect(byPrefix.one(db, 'z.%', '1')).rejects.toThrow(/no row/);
    // The compiled SQL is the builder's, with this call's values in place of the placeholders.
    const compiled = byPrefix.compile(db, 'x.%', 'v');
    expect(compiled.parameters).toEqual(['x.%', 'v', '2026-01-02T00:00:00Z', 'x.%']);
  });

  it('runs inside the caller’s transaction: its writes are seen there and roll back with it', async () => {
    const db = t.core.db.kysely;
    const setValue = prepared((d, _d, key: string, value: string) => d.updateTable('settings').set({ value }).where('key', '=', key));
    const valueOf = prepared((d, _d, key: string) => d.selectFrom('settings').select('value').where('key', '=', key));
    await expect(
      db.transaction().execute(async (trx) => {
        const result = await setValue.run(trx, 'a.one', 'changed');
        expect(Number(result.numAffectedRows)).toBe(1);
        expect(await valueOf.first(trx, 'a.one')).toEqual({ value: 'changed' });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await valueOf.first(db, 'a.one')).toEqual({ value: '1' });
    await db.transaction().execute((trx) => setValue.run(trx, 'a.two', 'kept'));
    expect(await valueOf.first(db, 'a.two')).toEqual({ value: 'kept' });
  });

  it('takes a rest of arguments with an arity, and keeps one statement per shape', async () => {
    const db = t.core.db.kysely;
    const update = preparedByShape((columns: string) =>
      prepared(
        (d, _d, key: string, ...values: unknown[]) =>
          d.updateTable('settings').set(Object.fromEntries(columns.split(',').map((c, i) => [c, values[i]]))).where('key', '=', key).returning(['key', 'value', 'updated_at']),
        1 + columns.split(',').length,
      ),
    );
    expect(update('value')).toBe(update('value'));
    expect(await update('value').one(db, 'a.one', 'x')).toEqual({ key: 'a.one', value: 'x', updated_at: '2026-01-01T00:00:00Z' });
    expect(await update('value,updated_at').one(db, 'a.two', 'y', '2026-02-02T00:00:00Z')).toEqual({ key: 'a.two', value: 'y', updated_at: '2026-02-02T00:00:00Z' });
  });

  it('refuses a query that does not use one of its arguments as a value', () => {
    const bad = prepared((d, _d, key: string) => d.selectFrom('settings').select('value').where('key', '=', key.length > 0 ? 'constant' : key));
    expect(() => bad.compile(t.core.db.kysely, 'k')).toThrow(/argument 1 is not a value of the query/);
  });
});
