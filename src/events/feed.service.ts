import type { Db } from '../db/connection.ts';
import { lastEventSeq, readEvents, type EventRecord } from './event.repository.ts';

export type { EventRecord };

/**
 * The event feed for readers inside the server (the workspace's live updates): what
 * happened after a sequence number, in order. On PostgreSQL numbers are drawn in commit
 * order (event.repository.ts), so a follower that remembers the last number it saw never
 * misses a change.
 */
export async function eventsAfter(db: Db, afterSeq: number, limit = 1000): Promise<EventRecord[]> {
  return readEvents(db.kysely, afterSeq, limit);
}

/** The newest event's number (0 when there is none): where a new follower starts. */
export async function latestEventSeq(db: Db): Promise<number> {
  return lastEventSeq(db.kysely);
}
