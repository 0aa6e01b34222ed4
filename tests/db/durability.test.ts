import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { connect } from '../../src/db/connection.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { cli } from '../helpers/cli.ts';

/** What the connection really runs with: 0 off, 1 normal, 2 full, 3 extra. */
async function synchronousOf(env: string | undefined, dir: string): Promise<number> {
  const before = process.env.CASHLOOP_SQLITE_SYNCHRONOUS;
  if (env === undefined) delete process.env.CASHLOOP_SQLITE_SYNCHRONOUS;
  else process.env.CASHLOOP_SQLITE_SYNCHRONOUS = env;
  try {
    const db = connect({ url: `sqlite:${path.join(dir, 'cashloop.db')}` });
    try {
      const r = await sql<{ synchronous: number }>`pragma synchronous`.execute(db.kysely);
      return Number(r.rows[0]!.synchronous);
    } finally {
      await db.close();
    }
  } finally {
    if (before === undefined) delete process.env.CASHLOOP_SQLITE_SYNCHRONOUS;
    else process.env.CASHLOOP_SQLITE_SYNCHRONOUS = before;
  }
}

// The SQLite file's durability setting: a property of the SQLite connection only.
describe('SQLite commits are synced to disk (synchronous)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-sync-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs with synchronous=FULL unless told otherwise', async () => {
    expect(await synchronousOf(undefined, dir)).toBe(2);
  });

  it('takes normal or extra from CASHLOOP_SQLITE_SYNCHRONOUS, in any case', async () => {
    expect(await synchronousOf('normal', dir)).toBe(1);
    expect(await synchronousOf('EXTRA', dir)).toBe(3);
    expect(await synchronousOf('Full', dir)).toBe(2);
  });

  it('refuses any other value, naming the setting and the value, before opening anything', async () => {
    const file = path.join(dir, 'cashloop.db');
    process.env.CASHLOOP_SQLITE_SYNCHRONOUS = 'off';
    try {
      let error: unknown;
      try {
        connect({ url: `sqlite:${file}` });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).detail).toMatchObject({ field: 'CASHLOOP_SQLITE_SYNCHRONOUS', value: 'off', rule: 'sqlite_synchronous_mode' });
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      delete process.env.CASHLOOP_SQLITE_SYNCHRONOUS;
    }
    const r = await cli(['migrate'], { DATABASE_URL: `sqlite:${file}`, CASHLOOP_SQLITE_SYNCHRONOUS: 'sometimes' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CASHLOOP_SQLITE_SYNCHRONOUS "sometimes" is not a SQLite synchronous mode');
  }, 60_000);
});
