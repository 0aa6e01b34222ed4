import type { DuckDBConnection } from '@duckdb/node-api';
import type { Db } from '../../src/db/connection.ts';
import { getWatermark, setWatermark } from '../schema.ts';
import { faultPoint, inTransaction } from '../warehouse.ts';
import type { Progress } from '../progress.ts';

export const EVENTS_WATERMARK = 'core_events';

export interface IngestEventsResult {
  rowsRead: number;
  rowsWritten: number;
  fromSeq: number;
  toSeq: number;
}

/**
 * Loads the core's event feed after the watermark into `raw.events`. The rows and the new
 * watermark commit in one DuckDB transaction, so a run killed midway loads nothing and the
 * next run starts from the same place: every event lands exactly once.
 */
export async function ingestEvents(
  conn: DuckDBConnection,
  core: Db,
  options: { runId: string; batchSize?: number; progress?: Progress },
): Promise<IngestEventsResult> {
  const batchSize = options.batchSize ?? 50_000;
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
    const appender = await conn.createAppender('events', 'raw');
    let cursor = fromSeq;
    let rows = 0;
    try {
      for (;;) {
        const batch = await core.kysely.selectFrom('events').selectAll().where('seq', '>', cursor).orderBy('seq').limit(batchSize).execute();
        if (batch.length === 0) break;
        // Value by value: measured faster than column-wise data chunks for these rows.
        for (const e of batch) {
          appender.appendBigInt(BigInt(e.seq));
          appender.appendVarchar(e.event_type);
          appender.appendVarchar(e.aggregate_type);
          appender.appendVarchar(e.aggregate_id);
          appender.appendVarchar(e.payload);
          appender.appendVarchar(e.actor);
          appender.appendVarchar(e.occurred_at);
          appender.appendVarchar(options.runId);
          appender.endRow();
        }
        cursor = Number(batch[batch.length - 1]!.seq);
        rows += batch.length;
        options.progress?.increment(batch.length);
        if (batch.length < batchSize) break;
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
      options.progress?.stop();
    }
    faultPoint('ingest:before-commit');
    if (cursor !== fromSeq) await setWatermark(conn, EVENTS_WATERMARK, cursor);
    return { rowsRead: rows, rowsWritten: rows, fromSeq, toSeq: cursor };
  });
}
