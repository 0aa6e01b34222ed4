/**
 * The SQLite side of the ingest alone: `npx tsx pipelines/bench/ingest-probe-sqlite.ts <core SQLite file> [text|octets] [slice]`.
 *
 * Runs the slice query the ingest runs (`readSlice` in pipelines/ingest/events.ts: the core's
 * database joins a slice of events into text) over the whole feed, on one thread, and prints
 * its CPU seconds. `text` (the default) is the query as the ingest runs it, whose bytes are
 * counted from the text's length; `octets` adds the sum of six `octet_length()`s per event the
 * ingest counted the bytes with before. Nothing is written. `slice` is the events per query
 * (4,000, as the ingest).
 */
import fs from 'node:fs';
import os from 'node:os';
import SQLite from 'better-sqlite3';

const [core, variant = 'text', slice = '4000'] = process.argv.slice(2);
if (!core || !fs.existsSync(core)) throw new Error('give the core SQLite file to read the feed from');
if (variant !== 'text' && variant !== 'octets') throw new Error('the variant is text or octets');
const COLUMNS = ['event_type', 'aggregate_type', 'aggregate_id', 'payload', 'actor', 'occurred_at'];
const octets = variant === 'octets' ? `, coalesce(sum(${COLUMNS.map((c) => `octet_length(${c})`).join(' + ')}), 0) as bytes` : '';
const db = new SQLite(core, { readonly: true });
try {
  db.pragma('mmap_size = 2000000000');
  const query = db.prepare<[number], { n: number; last: number; text: Buffer | null }>(
    `select count(*) as n, coalesce(min(seq), 0) as first, coalesce(max(seq), 0) as last${octets},
            cast(group_concat(concat_ws(char(31), seq, ${COLUMNS.join(', ')}), char(10)) as blob) as text
     from (select seq, ${COLUMNS.join(', ')} from events where seq > ? order by seq limit ${Number(slice)})`,
  );
  const c0 = process.cpuUsage();
  let after = 0;
  let events = 0;
  let bytes = 0;
  for (;;) {
    const r = query.get(after)!;
    if (!r.n) break;
    events += r.n;
    bytes += r.text?.length ?? 0;
    after = r.last;
  }
  const c = process.cpuUsage(c0);
  process.stdout.write(
    `${variant}: ${events.toLocaleString('en')} events joined into ${(bytes / 1e6).toFixed(0)} MB of text in slices of ${Number(slice).toLocaleString('en')}: ${((c.user + c.system) / 1e6).toFixed(2)} s CPU; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores\n`,
  );
} finally {
  db.close();
}
