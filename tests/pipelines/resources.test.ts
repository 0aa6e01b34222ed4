import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openWarehouse, rowsJson } from '../../src/warehouse/warehouse.ts';
import { tempDir } from './ledger.ts';

const VARS = ['CASHLOOP_DUCKDB_MEMORY', 'CASHLOOP_DUCKDB_TEMP', 'CASHLOOP_DUCKDB_THREADS'] as const;

describe('DuckDB resources of the warehouse', () => {
  const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  afterEach(() => {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
  });

  const settings = async (file: string) => {
    const wh = await openWarehouse(file);
    try {
      return (
        await rowsJson(
          wh.conn,
          `select current_setting('memory_limit') as memory, current_setting('temp_directory') as temp, current_setting('threads') as threads, current_setting('preserve_insertion_order') as ordered`,
        )
      )[0]!;
    } finally {
      wh.close();
    }
  };

  it('limits memory to 1 GB and spills beside the warehouse file unless told otherwise', async () => {
    for (const v of VARS) delete process.env[v];
    const file = path.join(tempDir(), 'warehouse.duckdb');
    const s = await settings(file);
    expect(String(s.memory)).toMatch(/^(953\.6 MiB|1\.0 GB|1000\.0 MB)$/);
    expect(s.temp).toBe(`${file}.tmp`);
    expect(s.ordered).toBe(false);
  });

  it('takes the memory limit, spill folder and threads from the environment', async () => {
    const dir = tempDir();
    process.env.CASHLOOP_DUCKDB_MEMORY = '512MB';
    process.env.CASHLOOP_DUCKDB_TEMP = path.join(dir, 'spill');
    process.env.CASHLOOP_DUCKDB_THREADS = '1';
    const s = await settings(path.join(dir, 'warehouse.duckdb'));
    expect(String(s.memory)).toMatch(/^(488\.2 MiB|512\.0 MB)$/);
    expect(s.temp).toBe(path.join(dir, 'spill'));
    expect(Number(s.threads)).toBe(1);
  });

  it('refuses a number of threads that is not a whole number above zero, naming the variable', async () => {
    process.env.CASHLOOP_DUCKDB_THREADS = 'two';
    const file = path.join(tempDir(), 'warehouse.duckdb');
    await expect(openWarehouse(file)).rejects.toMatchObject({ kind: 'invalid', detail: { field: 'CASHLOOP_DUCKDB_THREADS', value: 'two', rule: 'positive_integer' } });
    expect(fs.existsSync(file)).toBe(false);
  });
});
