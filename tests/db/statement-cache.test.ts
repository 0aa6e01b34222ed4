import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { cacheStatements, connect } from '../../src/db/connection.ts';

/** The SQLite prepared-statement cache in connection.ts (runs on SQLite in both suites). */
describe('SQLite statement cache', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-stmt-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reuses a statement per SQL text, evicts the least recently used, and sees schema changes', () => {
    const db = cacheStatements(new SQLite(':memory:'), 2);
    db.exec('create table t (a integer)');
    const s1 = db.prepare('select * from t where a = ?');
    expect(db.prepare('select * from t where a = ?')).toBe(s1);
    db.prepare('select 1');
    db.prepare('select * from t where a = ?'); // touched: now most recent
    db.prepare('select 2'); // evicts 'select 1'
    expect(db.prepare('select * from t where a = ?')).toBe(s1);
    db.prepare('insert into t (a) values (?)').run(7);
    db.exec('alter table t add column b text');
    expect(db.prepare('select * from t where a = ?').all(7)).toEqual([{ a: 7, b: null }]);
    db.close();
  });

  it('gives a fresh statement while the cached one is still iterating', () => {
    const db = cacheStatements(new SQLite(path.join(dir, 'c.db')));
    db.exec('create table n (v integer)');
    for (let i = 1; i <= 5; i++) db.prepare('insert into n (v) values (?)').run(i);
    const text = 'select v from n order by v';
    const outer = db.prepare(text);
    const seen: number[] = [];
    for (const row of outer.iterate() as Iterable<{ v: number }>) {
      const inner = db.prepare(text);
      expect(inner).not.toBe(outer);
      expect(inner.all()).toHaveLength(5);
      seen.push(row.v);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(db.prepare(text)).toBe(outer);
    db.close();
  });

  it('serves the core through Kysely', async () => {
    const conn = connect({ url: `sqlite:${path.join(dir, 'k.db')}` });
    await sql`create table m (v integer)`.execute(conn.kysely);
    for (let i = 1; i <= 3; i++) await sql`insert into m (v) values (${i})`.execute(conn.kysely);
    for (let i = 1; i <= 3; i++) {
      const rows = await sql<{ v: number }>`select v from m where v >= ${i} order by v`.execute(conn.kysely);
      expect(rows.rows.map((r) => r.v)).toEqual([1, 2, 3].filter((v) => v >= i));
    }
    await conn.close();
  });
});
