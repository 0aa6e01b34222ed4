import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';

/**
 * The ids a file has shown so far, to reject duplicates, without memory growing with the
 * file: the first ids live in a Set; past `memoryLimit` they all move to a scratch SQLite
 * file in the temp folder (removed on close), whose primary key answers "seen before?".
 */
export class IdSet {
  private memory = new Set<string>();
  private db: SQLite.Database | null = null;
  private dir: string | null = null;
  private insert: SQLite.Statement<[string]> | null = null;
  private pending = 0;

  constructor(private readonly memoryLimit = 50_000) {}

  /** Adds `id`; false when it was there already. */
  add(id: string): boolean {
    if (!this.db) {
      if (this.memory.has(id)) return false;
      this.memory.add(id);
      if (this.memory.size > this.memoryLimit) this.spill();
      return true;
    }
    if (this.pending === 0) this.db.exec('begin');
    const added = this.insert!.run(id).changes === 1;
    if (++this.pending >= 10_000) {
      this.db.exec('commit');
      this.pending = 0;
    }
    return added;
  }

  has(id: string): boolean {
    if (!this.db) return this.memory.has(id);
    return this.db.prepare('select 1 from ids where id = ?').get(id) !== undefined;
  }

  private spill(): void {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-ids-'));
    this.db = new SQLite(path.join(this.dir, 'ids.db'));
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('cache_size = -16000');
    this.db.exec('create table ids (id text primary key) without rowid');
    this.insert = this.db.prepare('insert or ignore into ids (id) values (?)');
    const all = this.db.transaction((ids: Set<string>) => {
      for (const id of ids) this.insert!.run(id);
    });
    all(this.memory);
    this.memory = new Set();
  }

  close(): void {
    if (this.db) {
      if (this.pending) this.db.exec('commit');
      this.db.close();
      this.db = null;
    }
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
    this.memory.clear();
  }
}
