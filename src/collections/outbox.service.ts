import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Kysely } from 'kysely';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { Database, OutboxKind, OutboxStatus } from '../db/schema.ts';
import { conflict, DomainError, invalid, notFound } from '../shared/errors.ts';
import { requireId } from '../shared/validate.ts';
import { getSettings, installationId } from '../settings/settings.service.ts';
import { claimMessages, recordClaimed, releaseClaims, renewClaim, type OutboxRow } from './outbox.repository.ts';

/**
 * The outbox: every reminder, statement and user's notification digest is a row here first, rendered as text and HTML.
 * With an SMTP server configured (`CASHLOOP_SMTP_URL`, e.g. `smtp://mail.example.com:587`
 * or `smtps://user:pass@host`) pending messages are sent with nodemailer and marked `sent`,
 * or `failed` with the server's answer; without one they stay `pending` until exported as
 * `.eml` files (any mail client opens them) or sent later.
 *
 * Senders and exporters claim messages before they touch them (a lease of `OUTBOX_LEASE_MS`),
 * so two of them running at once never both take one message; only the claim holder records
 * the outcome. Delivery toward the SMTP server is at least once: a sender that dies between
 * the server's accept and the `sent` commit leaves the message to be sent again once its
 * lease ends, with the same Message-ID (`<outbox-{id}.{installation id}@cashloop>`), on which
 * receivers deduplicate.
 */
export type { OutboxRow };

/** How long a sender holds what it claimed; a crashed sender's messages are free again after it. */
export const OUTBOX_LEASE_MS = 5 * 60_000;
/** Messages claimed at a time: few, so each one is sent well inside its lease. */
const CLAIM_BATCH = 20;

export interface OutboxMessage {
  id: number;
  kind: OutboxKind;
  /** The customer of a reminder or statement; null for a user's digest of notifications. */
  customerId: number | null;
  /** The user of a digest (src/notifications); null for customers' messages. */
  userId: number | null;
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
  id: r.id, kind: r.kind, customerId: r.customer_id, userId: r.user_id, asOf: r.as_of, to: r.to_address, subject: r.subject, status: r.status, error: r.error, attempts: r.attempts, createdAt: r.created_at, sentAt: r.sent_at, exportedAt: r.exported_at,
});

/** The statuses of a message in the outbox, as lists filter by them (`?status=`, `--status`). */
export const OUTBOX_STATUSES = ['pending', 'sent', 'failed', 'exported'] as const satisfies readonly OutboxStatus[];

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

/** The Message-ID of an outbox message: the same on every resend, unique across installations. */
export function messageIdFor(id: number, installation: string): string {
  return `<outbox-${id}.${installation}@cashloop>`;
}

async function composeEml(row: OutboxRow, from: string, installation: string): Promise<Buffer> {
  return new MailComposer({ from, to: row.to_address ?? undefined, subject: row.subject, text: row.body_text, html: row.body_html, messageId: messageIdFor(row.id, installation), date: new Date(row.created_at) }).compile().build();
}

/** Who holds a claim: the actor, the machine and process, and a random part per run (two runs in one process differ). */
function newClaimant(actor: string): string {
  return `${actor}@${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

const CLAIM_LOST = 'claim_held';

/**
 * Records the outcome of a message this sender claimed, as a change with its event. Refused
 * (conflict, nothing written) when the claim is no longer this sender's: its lease ran out
 * and another sender took the message.
 */
async function recordOutcome(core: Core, actor: string, row: OutboxRow, claimant: string, outcome: Parameters<typeof recordClaimed>[3], type: string, countAttempt: boolean): Promise<OutboxMessage> {
  return runChange(core, actor, async ({ trx }) => {
    const updated = await recordClaimed(trx, row.id, claimant, outcome, countAttempt);
    if (!updated) throw conflict(`message ${row.id} is no longer claimed by this sender: its lease ended and another sender took it`, { entity: 'message', id: row.id, rule: CLAIM_LOST });
    return { result: toMessage(updated), events: [{ type, aggregate: row.customer_id === null ? 'user' : 'customer', id: row.customer_id ?? row.user_id ?? row.id, after: { outbox_messages: [updated] } }] };
  });
}

const isClaimLost = (e: unknown) => e instanceof DomainError && e.detail.rule === CLAIM_LOST;

/**
 * Claims messages in `statuses` a batch at a time, oldest first, and hands each to `handle`;
 * a run never takes a message twice (it moves past the last id it claimed). Whatever it still
 * holds when it stops (an error) is released at once rather than at the lease's end.
 */
async function forEachClaimed(core: Core, claimant: string, statuses: OutboxStatus[], limit: number, leaseMs: number, handle: (row: OutboxRow) => Promise<void>): Promise<void> {
  const db = core.db.kysely;
  let afterId = 0;
  let taken = 0;
  try {
    while (taken < limit) {
      const now = core.clock.now();
      const batch = await claimMessages(db, core.db.dialect, { statuses, claimant, afterId, now: now.toISOString(), expiresAt: new Date(now.getTime() + leaseMs).toISOString(), limit: Math.min(CLAIM_BATCH, limit - taken) });
      if (batch.length === 0) break;
      for (const row of batch) {
        taken++;
        afterId = row.id;
        await handle(row);
      }
    }
  } finally {
    await releaseClaims(db, claimant);
  }
}

export interface ExportOptions {
  /** Which messages to export; default `pending`. */
  status?: OutboxStatus;
  /** How long the export holds what it claimed (default `OUTBOX_LEASE_MS`). */
  leaseMs?: number;
}

/**
 * Writes pending messages as `<id>-<kind>-customer-<n>.eml` into `dir` and marks them
 * exported. Each message is claimed first, so an export and a send running at once never
 * both take it; a file whose claim was taken over meanwhile is removed again.
 */
export async function exportOutbox(core: Core, dir: string, actor: string, options: ExportOptions = {}): Promise<{ dir: string; files: string[]; takenOver: number }> {
  const status = options.status ?? 'pending';
  const db = core.db.kysely;
  const from = (await getSettings(db))['company.email'];
  const installation = await installationId(db);
  const claimant = newClaimant(actor);
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  let takenOver = 0;
  await forEachClaimed(core, claimant, [status], Number.MAX_SAFE_INTEGER, options.leaseMs ?? OUTBOX_LEASE_MS, async (row) => {
    const file = path.join(dir, `${row.id}-${row.kind}-${row.customer_id === null ? `user-${row.user_id}` : `customer-${row.customer_id}`}.eml`);
    fs.writeFileSync(file, await composeEml(row, from, installation));
    try {
      await recordOutcome(core, actor, row, claimant, { status: 'exported', exported_at: core.clock.now().toISOString() }, 'message.exported', false);
      files.push(file);
    } catch (e) {
      if (!isClaimLost(e)) throw e;
      fs.rmSync(file, { force: true });
      takenOver++;
    }
  });
  return { dir, files, takenOver };
}

export interface SendOptions {
  /** SMTP URL; default `CASHLOOP_SMTP_URL`. Without one nothing is sent. */
  smtpUrl?: string;
  /** Also retry messages that failed before. */
  retryFailed?: boolean;
  limit?: number;
  /** How long the sender holds what it claimed (default `OUTBOX_LEASE_MS`). */
  leaseMs?: number;
}

/** The SMTP server configured for this process, if any. */
export function configuredSmtp(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.CASHLOOP_SMTP_URL || undefined;
}

/**
 * Sends pending messages (and failed ones with `retryFailed`) over SMTP, one at a time, and
 * records each outcome as a change: `sent` with the time, or `failed` with the error (a
 * message without an address fails without trying). Messages are claimed a batch at a time
 * and the claim renewed just before each send, so concurrent senders (processes, API calls)
 * never send one message twice; `takenOver` counts messages another sender took after this
 * one's lease ended (this sender records nothing for them).
 */
export async function sendOutbox(core: Core, actor: string, options: SendOptions = {}): Promise<{ sent: number; failed: number; takenOver: number; results: OutboxMessage[] }> {
  const url = options.smtpUrl ?? configuredSmtp();
  if (!url) throw invalid('no SMTP server is configured: set CASHLOOP_SMTP_URL (e.g. smtp://mail.example.com:587), or export the outbox with --export DIR', { field: 'CASHLOOP_SMTP_URL', rule: 'smtp_configured' });
  const db = core.db.kysely;
  const from = (await getSettings(db))['company.email'];
  const installation = await installationId(db);
  const statuses: OutboxStatus[] = options.retryFailed ? ['pending', 'failed'] : ['pending'];
  const leaseMs = options.leaseMs ?? OUTBOX_LEASE_MS;
  const claimant = newClaimant(actor);
  // A server that stops answering is given up on well inside the lease (nodemailer waits 10 minutes by default).
  const transport = nodemailer.createTransport({ url, socketTimeout: Math.min(60_000, leaseMs / 2) });
  const results: OutboxMessage[] = [];
  let sent = 0;
  let failed = 0;
  let takenOver = 0;
  try {
    await forEachClaimed(core, claimant, statuses, options.limit ?? 10_000, leaseMs, async (row) => {
      // A fresh lease for the send itself: the messages later in the batch waited for the earlier ones.
      if (!(await renewClaim(db, row.id, claimant, new Date(core.clock.now().getTime() + leaseMs).toISOString()))) {
        takenOver++;
        return;
      }
      let error: string | null = null;
      if (!row.to_address) error = row.customer_id === null ? `user ${row.user_id} has no e-mail address` : `customer ${row.customer_id} has no e-mail address`;
      else {
        try {
          await transport.sendMail({ from, to: row.to_address, subject: row.subject, text: row.body_text, html: row.body_html, messageId: messageIdFor(row.id, installation) });
        } catch (e) {
          error = (e as Error).message.slice(0, 1000);
        }
      }
      const at = core.clock.now().toISOString();
      try {
        results.push(await recordOutcome(core, actor, row, claimant, error ? { status: 'failed', error } : { status: 'sent', error: null, sent_at: at }, error ? 'message.failed' : 'message.sent', true));
      } catch (e) {
        if (!isClaimLost(e)) throw e;
        takenOver++;
        return;
      }
      if (error) failed++;
      else sent++;
    });
  } finally {
    transport.close();
  }
  return { sent, failed, takenOver, results };
}
