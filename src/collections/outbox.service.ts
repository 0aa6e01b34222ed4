import fs from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Kysely, Selectable } from 'kysely';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { Database, OutboxKind, OutboxMessagesTable, OutboxStatus } from '../db/schema.ts';
import { invalid, notFound } from '../shared/errors.ts';
import { requireId } from '../shared/validate.ts';
import { getSettings } from '../settings/settings.service.ts';

/**
 * The outbox: every reminder and statement is a row here first, rendered as text and HTML.
 * With an SMTP server configured (`CASHLOOP_SMTP_URL`, e.g. `smtp://mail.example.com:587`
 * or `smtps://user:pass@host`) pending messages are sent with nodemailer and marked `sent`,
 * or `failed` with the server's answer; without one they stay `pending` until exported as
 * `.eml` files (any mail client opens them) or sent later.
 */
export type OutboxRow = Selectable<OutboxMessagesTable>;

export interface OutboxMessage {
  id: number;
  kind: OutboxKind;
  customerId: number;
  asOf: string;
  to: string | null;
  subject: string;
  status: OutboxStatus;
  error: string | null;
  attempts: number;
  createdAt: string;
  sentAt: string | null;
  exportedAt: string | null;
}

export const toMessage = (r: OutboxRow): OutboxMessage => ({
  id: r.id, kind: r.kind, customerId: r.customer_id, asOf: r.as_of, to: r.to_address, subject: r.subject, status: r.status, error: r.error, attempts: r.attempts, createdAt: r.created_at, sentAt: r.sent_at, exportedAt: r.exported_at,
});

export async function listOutbox(db: Kysely<Database>, filter: { status?: OutboxStatus; customerId?: number; kind?: OutboxKind; limit?: number } = {}): Promise<OutboxMessage[]> {
  let q = db.selectFrom('outbox_messages').selectAll().orderBy('id');
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.customerId !== undefined) q = q.where('customer_id', '=', filter.customerId);
  if (filter.kind) q = q.where('kind', '=', filter.kind);
  return (await q.limit(filter.limit ?? 1000).execute()).map(toMessage);
}

/** One message with its bodies. */
export async function getMessage(db: Kysely<Database>, id: number | string): Promise<OutboxMessage & { text: string; html: string }> {
  const messageId = requireId(id, 'messageId');
  const row = await db.selectFrom('outbox_messages').selectAll().where('id', '=', messageId).executeTakeFirst();
  if (!row) throw notFound('message', messageId);
  return { ...toMessage(row), text: row.body_text, html: row.body_html };
}

async function composeEml(row: OutboxRow, from: string): Promise<Buffer> {
  return new MailComposer({ from, to: row.to_address ?? undefined, subject: row.subject, text: row.body_text, html: row.body_html, messageId: `<outbox-${row.id}@cashloop>`, date: new Date(row.created_at) }).compile().build();
}

/** Writes pending messages as `<id>-<kind>-customer-<n>.eml` into `dir` and marks them exported. */
export async function exportOutbox(core: Core, dir: string, actor: string, options: { status?: OutboxStatus } = {}): Promise<{ dir: string; files: string[] }> {
  const status = options.status ?? 'pending';
  const db = core.db.kysely;
  const from = (await getSettings(db))['company.email'];
  const rows = await db.selectFrom('outbox_messages').selectAll().where('status', '=', status).orderBy('id').execute();
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const row of rows) {
    const file = path.join(dir, `${row.id}-${row.kind}-customer-${row.customer_id}.eml`);
    fs.writeFileSync(file, await composeEml(row, from));
    files.push(file);
    await runChange(core, actor, async ({ trx, at }) => {
      const updated = await trx.updateTable('outbox_messages').set({ status: 'exported', exported_at: at }).where('id', '=', row.id).returningAll().executeTakeFirstOrThrow();
      return { result: null, events: [{ type: 'message.exported', aggregate: 'customer', id: row.customer_id, after: { outbox_messages: [updated] } }] };
    });
  }
  return { dir, files };
}

export interface SendOptions {
  /** SMTP URL; default `CASHLOOP_SMTP_URL`. Without one nothing is sent. */
  smtpUrl?: string;
  /** Also retry messages that failed before. */
  retryFailed?: boolean;
  limit?: number;
}

/** The SMTP server configured for this process, if any. */
export function configuredSmtp(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.CASHLOOP_SMTP_URL || undefined;
}

/**
 * Sends pending messages (and failed ones with `retryFailed`) over SMTP, one at a time, and
 * records each outcome as a change: `sent` with the time, or `failed` with the error (a
 * message without an address fails without trying).
 */
export async function sendOutbox(core: Core, actor: string, options: SendOptions = {}): Promise<{ sent: number; failed: number; results: OutboxMessage[] }> {
  const url = options.smtpUrl ?? configuredSmtp();
  if (!url) throw invalid('no SMTP server is configured: set CASHLOOP_SMTP_URL (e.g. smtp://mail.example.com:587), or export the outbox with --export DIR', { field: 'CASHLOOP_SMTP_URL', rule: 'smtp_configured' });
  const db = core.db.kysely;
  const from = (await getSettings(db))['company.email'];
  const statuses: OutboxStatus[] = options.retryFailed ? ['pending', 'failed'] : ['pending'];
  const rows = await db.selectFrom('outbox_messages').selectAll().where('status', 'in', statuses).orderBy('id').limit(options.limit ?? 10_000).execute();
  const transport = nodemailer.createTransport(url);
  const results: OutboxMessage[] = [];
  let sent = 0;
  let failed = 0;
  try {
    for (const row of rows) {
      let error: string | null = null;
      if (!row.to_address) error = `customer ${row.customer_id} has no e-mail address`;
      else {
        try {
          await transport.sendMail({ from, to: row.to_address, subject: row.subject, text: row.body_text, html: row.body_html, messageId: `<outbox-${row.id}@cashloop>` });
        } catch (e) {
          error = (e as Error).message.slice(0, 1000);
        }
      }
      if (error) failed++;
      else sent++;
      results.push(
        await runChange(core, actor, async ({ trx, at }) => {
          const updated = await trx
            .updateTable('outbox_messages')
            .set(error ? { status: 'failed', error, attempts: row.attempts + 1 } : { status: 'sent', error: null, sent_at: at, attempts: row.attempts + 1 })
            .where('id', '=', row.id)
            .returningAll()
            .executeTakeFirstOrThrow();
          return { result: toMessage(updated), events: [{ type: error ? 'message.failed' : 'message.sent', aggregate: 'customer', id: row.customer_id, after: { outbox_messages: [updated] } }] };
        }),
      );
    }
  } finally {
    transport.close();
  }
  return { sent, failed, results };
}
