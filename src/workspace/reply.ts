import type { FastifyReply, FastifyRequest } from 'fastify';
import { toCsv } from '../shared/csv.ts';

/** How every workspace page answers: HTML pages, CSV downloads, and who acts. */
export function sendPage(reply: FastifyReply, markup: string, statusCode = 200): FastifyReply {
  return reply.status(statusCode).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(markup);
}

/** A list as a CSV download through the project's formula-safe writer. */
export function sendCsv(reply: FastifyReply, name: string, columns: readonly string[], rows: readonly Record<string, unknown>[]): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="${name}.csv"`)
    .type('text/csv; charset=utf-8')
    .send(toCsv(columns, rows));
}

export const wantsCsv = (req: FastifyRequest): boolean => (req.query as Record<string, unknown> | undefined)?.format === 'csv';

/** Who acts, for the event log: the key's name, marked as coming from the workspace. */
export const actorOf = (req: FastifyRequest): string => `app:${req.apiKey!.name}`;
