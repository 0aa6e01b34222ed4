import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sql } from 'kysely';
import type { Db } from '../../src/db/connection.ts';
import { getWatermark, setWatermark } from '../schema.ts';
import { faultPoint, inTransaction, lit, rowsJson } from '../../src/warehouse/warehouse.ts';
import type { Progress } from '../progress.ts';

export const EVENTS_WATERMARK = 'core_events';

export interface IngestEventsResult {
  rowsRead: number;
  rowsWritten: number;
  fromSeq: number;
  toSeq: number;
  /** Batches that could not travel as text (a carriage return, a separator or invalid UTF-8 in a value) and were appended row by row. */
  batchesByRow: number;
}

/** Separates the values of one event in a batch's text; newline separates events. */
const SEPARATOR = '\x1f';
const COLUMNS = ['event_type', 'aggregate_type', 'aggregate_id', 'payload', 'actor', 'occurred_at'] as const;
/** Batches per DuckDB statement: enough rows for both of its threads to parse and compress. */
const GROUP = 4;

/** One slice of the feed as the core's database joined it: its size, first and last seq, and the text. */
interface Slice {
  n: number;
  first: number;
  last: number;
  text: Buffer | string;
}

/**
 * Events the core's database joins into one value at a time. A batch file is written slice
 * by slice: SQLite joins a few thousand rows (a few megabytes) in memory it reuses, where
 * joining a whole batch of 100,000 (tens of megabytes, grown by copying) took twice the CPU,
 * and the process never holds more than one slice of the feed.
 */
const SLICE = 4_000;

/**
 * How much of the core's SQLite file its reads may map into memory while the ingest runs.
 * Reading the feed through the map instead of copying every page out of the file (one system
 * call a page) took SQLite about a quarter less CPU at a million invoices. Mapped pages count
 * in the process's resident memory, so the map is dropped and made again after every batch
 * (a different size makes SQLite remap): it never holds more than about one batch of the
 * feed's pages, where one map over the whole run grew the process by most of the file.
 * Under SQLite's own ceiling (2 GB); a larger core is mapped up to it and read as before beyond.
 */
const MMAP_BYTES = 2_000_000_000;

/** A batch written to its scratch file (the text is not kept in memory). */
interface Written {
  file: string;
  after: number;
  n: number;
  last: number;
  bytes: number;
  /** False when a carriage return inside a value would stop DuckDB's reader with an error (and abort the transaction). */
  asText: boolean;
}

/**
 * Loads the core's event feed after the watermark into `raw.events`. The rows and the new
 * watermark commit in one DuckDB transaction, so a run killed midway loads nothing and the
 * next run starts from the same place: every event lands exactly once.
 *
 * The feed travels in batches of text: the core's database joins each batch into one value
 * (events by newline, columns by the unit separator), which is written to a scratch file and
 * parsed by DuckDB's CSV reader, so no event becomes a JavaScript object. The next batch is
 * read from the core while DuckDB loads the previous one. Each loaded batch is checked
 * against the core's count and byte total; a batch whose values hold a separator, a line
 * break or invalid UTF-8 fails that check and is loaded again row by row.
 */
export async function ingestEvents(
  conn: DuckDBConnection,
  core: Db,
  options: { runId: string; batchSize?: number; sliceSize?: number; progress?: Progress },
): Promise<IngestEventsResult> {
  const batchSize = options.batchSize ?? 100_000;
  const sliceSize = options.sliceSize ?? SLICE;
  return inTransaction(conn, async () => {
    const fromSeq = await getWatermark(conn, EVENTS_WATERMARK);
    if (options.progress) {
      const total = await core.kysely
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('seq', '>', fromSeq)
        .executeTakeFirst();
      options.progress.start('ingest events', Number(total?.n ?? 0));
    }
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-ingest-'));
    const mapped = await mapCore(core);
    let cursor = fromSeq;
    let rows = 0;
    let byRow = 0;
    let loading: Promise<number> | null = null;
    try {
      // Batches are loaded a group at a time (one DuckDB statement parses a group's files in
      // parallel) while the core's database joins the next group: two groups of files alternate.
      for (let g = 0, done = false; !done; g++) {
        const group: Written[] = [];
        while (group.length < GROUP && !done) {
          const file = path.join(scratch, `batch-${g % 2}-${group.length}.txt`);
          const batch = await writeBatch(core, cursor, batchSize, sliceSize, file);
          await mapped?.remap();
          if (batch.n === 0) break;
          group.push({ file, after: cursor, ...batch });
          cursor = batch.last;
          rows += batch.n;
          options.progress?.increment(batch.n);
          done = batch.n < batchSize;
        }
        if (group.length === 0) break;
        if (loading) byRow += await loading;
        loading = loadGroup(conn, core, group, options.runId);
        loading.catch(() => undefined);
      }
      if (loading) byRow += await loading;
    } catch (error) {
      await loading?.catch(() => undefined);
      throw error;
    } finally {
      await mapped?.restore();
      fs.rmSync(scratch, { recursive: true, force: true });
      options.progress?.stop();
    }
    faultPoint('ingest:before-commit');
    if (cursor !== fromSeq) await setWatermark(conn, EVENTS_WATERMARK, cursor);
    return { rowsRead: rows, rowsWritten: rows, fromSeq, toSeq: cursor, batchesByRow: byRow };
  });
}

/**
 * On SQLite, lets this connection read the core's file through a memory map for the ingest's
 * reads (see `MMAP_BYTES`); `remap` drops the pages mapped so far, `restore` puts the
 * connection's own setting back. Nothing on PostgreSQL.
 */
async function mapCore(core: Db): Promise<{ remap(): Promise<void>; restore(): Promise<void> } | null> {
  if (core.dialect !== 'sqlite') return null;
  const setting = async (bytes?: number) =>
    Number(Object.values((await sql<Record<string, number>>`pragma ${sql.raw(bytes === undefined ? 'mmap_size' : `mmap_size = ${bytes}`)}`.execute(core.kysely)).rows[0] ?? {})[0] ?? 0);
  const own = await setting();
  let size = MMAP_BYTES;
  await setting(size);
  return {
    async remap() {
      size = size === MMAP_BYTES ? MMAP_BYTES - 4096 : MMAP_BYTES;
      await setting(size);
    },
    async restore() {
      await setting(own);
    },
  };
}

/**
 * Writes the next batch of at most `limit` events after `after` to `file`, a slice at a
 * time, and returns what the core counted: events, last seq, bytes of their values (the
 * text's bytes less the separators, the newlines and the seqs' digits: no function of the
 * core's database runs on every value to count them), and
 * whether the text can be read as such (no carriage return in a value, which would stop
 * DuckDB's reader with an error and abort the transaction).
 */
async function writeBatch(core: Db, after: number, limit: number, sliceSize: number, file: string): Promise<Omit<Written, 'file' | 'after'>> {
  // The two groups' files are written over in place (and cut to length): the kernel copies
  // into pages the file already has instead of finding and zeroing new ones for every batch.
  const fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w');
  let at = 0;
  const written = { n: 0, last: after, bytes: 0, asText: true };
  try {
    while (written.n < limit) {
      const wanted = Math.min(core.dialect === 'postgres' ? limit : sliceSize, limit - written.n);
      const slice = await readSlice(core, written.last, wanted);
      if (slice.n === 0) break;
      const text = typeof slice.text === 'string' ? Buffer.from(slice.text) : slice.text;
      at = writeAt(fd, text, at);
      at = writeAt(fd, NEWLINE, at);
      if (text.includes(13)) written.asText = false;
      written.n += slice.n;
      written.last = slice.last;
      written.bytes += text.length - SEPARATORS_PER_EVENT * slice.n + 1 - (await seqDigits(core, slice));
      if (slice.n < wanted) break;
    }
    fs.ftruncateSync(fd, at);
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

const NEWLINE = Buffer.from('\n');

/** Writes all of `data` at `at` and returns the position after it. */
function writeAt(fd: number, data: Buffer, at: number): number {
  for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done, at + done);
  return at + data.length;
}

/** The next slice of events after `after`, joined into text by the core's database. */
async function readSlice(core: Db, after: number, limit: number): Promise<Slice> {
  if (core.dialect === 'postgres') {
    const r = await sql<{ n: number; first: number; last: number; text: string | null }>`
      select count(*) as n, coalesce(min(seq), 0) as first, coalesce(max(seq), 0) as last,
             string_agg(concat_ws(chr(31), seq, ${sql.raw(COLUMNS.join(', '))}), chr(10)) as text
      from (select seq, ${sql.raw(COLUMNS.join(', '))} from events where seq > ${after} order by seq limit ${limit}) as b`.execute(core.kysely);
    const row = r.rows[0]!;
    return { n: Number(row.n), first: Number(row.first), last: Number(row.last), text: row.text ?? '' };
  }
  // As a blob, the text reaches the file without becoming a JavaScript string.
  const r = await sql<{ n: number; first: number; last: number; text: Buffer | null }>`
    select count(*) as n, coalesce(min(seq), 0) as first, coalesce(max(seq), 0) as last,
           cast(group_concat(concat_ws(char(31), seq, ${sql.raw(COLUMNS.join(', '))}), char(10)) as blob) as text
    from (select seq, ${sql.raw(COLUMNS.join(', '))} from events where seq > ${after} order by seq limit ${limit})`.execute(core.kysely);
  const row = r.rows[0]!;
  return { n: Number(row.n), first: Number(row.first), last: Number(row.last), text: row.text ?? Buffer.alloc(0) };
}

/** Separators in an event's line (between seq and its six values) and the newline after it. */
const SEPARATORS_PER_EVENT = COLUMNS.length + 1;

/**
 * The digits of the seqs in a slice, written as the core's database writes an integer. A
 * slice without gaps (first to last, one seq each) is counted here; one with gaps is counted
 * by the core's database.
 */
async function seqDigits(core: Db, slice: Slice): Promise<number> {
  if (slice.first >= 1 && slice.last - slice.first + 1 === slice.n) return digitsFromTo(slice.first, slice.last);
  const r = await sql<{ digits: number }>`
    select coalesce(sum(length(${sql.raw(core.dialect === 'postgres' ? 'seq::text' : 'seq')})), 0) as digits from events where seq >= ${slice.first} and seq <= ${slice.last}`.execute(core.kysely);
  return Number(r.rows[0]!.digits);
}

/** The number of decimal digits written to write every whole number from `first` to `last` (both at least 1). */
export function digitsFromTo(first: number, last: number): number {
  let digits = 0;
  for (let d = 1, low = 1; low <= last; d++, low *= 10) {
    const from = Math.max(first, low);
    const to = Math.min(last, low * 10 - 1);
    if (to >= from) digits += (to - from + 1) * d;
  }
  return digits;
}

/** Counts the events of `raw.events` in (after, last] and the bytes of their values. */
async function landed(conn: DuckDBConnection, after: number, last: number): Promise<{ n: number; bytes: number }> {
  const r = (
    await rowsJson(conn, `select count(*) as n, coalesce(sum(${COLUMNS.map((c) => `strlen(${c})`).join(' + ')}), 0) as bytes from raw.events where seq > $1 and seq <= $2`, [
      BigInt(after),
      BigInt(last),
    ])
  )[0]!;
  return { n: Number(r.n), bytes: Number(r.bytes) };
}

async function insertFiles(conn: DuckDBConnection, files: string[], runId: string): Promise<void> {
  // Malformed lines (a separator or line break inside a value, invalid UTF-8) are skipped here and caught by the counts.
  await conn.run(`insert into raw.events
    select seq, ${COLUMNS.map((c) => `coalesce(${c}, '')`).join(', ')}, ${lit(runId)}
    from read_csv([${files.map(lit).join(', ')}], delim = '${SEPARATOR}', quote = '', escape = '', header = false, auto_detect = false, ignore_errors = true,
                  columns = {'seq': 'BIGINT', ${COLUMNS.map((c) => `'${c}': 'VARCHAR'`).join(', ')}})`);
}

/**
 * Loads a group of batch files into `raw.events` in one statement and checks it: as many
 * events as the core counted, with as many bytes. When the group does not add up, each batch
 * is loaded and checked on its own, and one that still does not is loaded row by row.
 * Returns the number of batches loaded row by row.
 */
async function loadGroup(conn: DuckDBConnection, core: Db, group: Written[], runId: string): Promise<number> {
  const first = group[0]!.after;
  const last = group[group.length - 1]!.last;
  if (group.every((b) => b.asText)) {
    await insertFiles(conn, group.map((b) => b.file), runId);
    const got = await landed(conn, first, last);
    if (got.n === group.reduce((s, b) => s + b.n, 0) && got.bytes === group.reduce((s, b) => s + b.bytes, 0)) return 0;
    await conn.run('delete from raw.events where seq > $1 and seq <= $2', [BigInt(first), BigInt(last)]);
  }
  let byRow = 0;
  for (const b of group) {
    if (b.asText) {
      await insertFiles(conn, [b.file], runId);
      const got = await landed(conn, b.after, b.last);
      if (got.n === b.n && got.bytes === b.bytes) continue;
      await conn.run('delete from raw.events where seq > $1 and seq <= $2', [BigInt(b.after), BigInt(b.last)]);
    }
    await appendRows(conn, core, b.after, b.last, runId);
    byRow++;
  }
  return byRow;
}

/** The careful path for a batch the text could not carry: events read as rows and appended value by value. */
async function appendRows(conn: DuckDBConnection, core: Db, after: number, last: number, runId: string): Promise<void> {
  const appender = await conn.createAppender('events', 'raw');
  try {
    let cursor = after;
    while (cursor < last) {
      const rows = await core.kysely.selectFrom('events').selectAll().where('seq', '>', cursor).where('seq', '<=', last).orderBy('seq').limit(10_000).execute();
      if (rows.length === 0) break;
      for (const e of rows) {
        appender.appendBigInt(BigInt(e.seq));
        appender.appendVarchar(e.event_type);
        appender.appendVarchar(e.aggregate_type);
        appender.appendVarchar(e.aggregate_id);
        appender.appendVarchar(e.payload);
        appender.appendVarchar(e.actor);
        appender.appendVarchar(e.occurred_at);
        appender.appendVarchar(runId);
        appender.endRow();
      }
      cursor = Number(rows[rows.length - 1]!.seq);
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
