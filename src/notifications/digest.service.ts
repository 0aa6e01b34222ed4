import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import { getSettings } from '../settings/settings.service.ts';
import * as repo from './notification.repository.ts';

/**
 * The daily digest: each enabled user with an e-mail address and unread notifications not
 * yet e-mailed gets one message in the outbox (kind `digest`), listing them with a link to
 * each, and those notifications are marked as digested so tomorrow's digest does not repeat
 * them. One message per user per day: its outbox key is `digest:<user>:<date>`, unique in the
 * database, so a run repeated the same day — or two at once — enqueues it once (the second
 * writes nothing, and notifications arriving later that day wait for the next day's digest).
 * The outbox delivers it like the reminders (the scheduler's job sends at once when an SMTP
 * server is configured; else it waits in the outbox to be sent or exported).
 */
export interface DigestRun {
  date: string;
  /** Users a digest was written for now, with how many notifications each lists. */
  digests: { user: string; messageId: number; notifications: number }[];
  /** Users with unread notifications but no e-mail address: nothing written for them. */
  withoutEmail: string[];
  /** Users whose digest of the day was written already. */
  alreadyWritten: string[];
}

export interface DigestOptions {
  /** Where links point: default `CASHLOOP_BASE_URL`, else http://127.0.0.1:3000. */
  baseUrl?: string;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

const KIND: Record<string, string> = { credit_hold: 'Credit hold', dunning_level: 'Dunning level', promise_broken: 'Promise broken' };

function render(user: string, date: string, company: string, rows: repo.NotificationRow[], base: string): { subject: string; text: string; html: string } {
  const subject = `${rows.length} new notification${rows.length === 1 ? '' : 's'} for ${user}, ${date} — ${company}`;
  const link = (r: repo.NotificationRow) => `${base}${r.link ?? '/app/notifications'}`;
  const text = [
    `Hello ${user},`,
    '',
    `cashloop has ${rows.length} notification${rows.length === 1 ? '' : 's'} for you that you have not read yet:`,
    '',
    ...rows.map((r) => `- ${KIND[r.kind] ?? r.kind} (${r.created_at.slice(0, 16).replace('T', ' ')} UTC): ${r.subject}\n  ${link(r)}`),
    '',
    `All of them: ${base}/app/notifications`,
  ].join('\n');
  const items = rows.map((r) => `<li><strong>${escapeHtml(KIND[r.kind] ?? r.kind)}</strong> <span style="color:#666">${escapeHtml(r.created_at.slice(0, 16).replace('T', ' '))} UTC</span><br><a href="${escapeHtml(link(r))}">${escapeHtml(r.subject)}</a></li>`).join('');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(subject)}</title></head><body style="font-family:system-ui,sans-serif;color:#222;max-width:720px;margin:auto;padding:16px"><p>Hello ${escapeHtml(user)},</p><p>cashloop has ${rows.length} notification${rows.length === 1 ? '' : 's'} for you that you have not read yet:</p><ul>${items}</ul><p><a href="${escapeHtml(`${base}/app/notifications`)}">All of them in the workspace</a></p></body></html>`;
  return { subject, text, html };
}

/** Writes the day's digests into the outbox (see above); answers what it wrote. */
export async function runNotificationDigest(core: Core, actor: string, options: DigestOptions = {}): Promise<DigestRun> {
  const db = core.db.kysely;
  const date = core.clock.now().toISOString().slice(0, 10);
  const base = (options.baseUrl ?? process.env.CASHLOOP_BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const company = (await getSettings(db))['company.name'];
  const run: DigestRun = { date, digests: [], withoutEmail: [], alreadyWritten: [] };
  for (const user of await repo.usersWithUndigested(db)) {
    if (!user.email) {
      run.withoutEmail.push(user.name);
      continue;
    }
    const email = user.email;
    const written = await runChange<null | 'already' | { messageId: number; notifications: number }>(core, actor, async ({ trx, at }) => {
      const rows = await repo.undigestedOf(trx, user.name);
      if (rows.length === 0) return { result: null, events: [], unchanged: true };
      const body = render(user.name, date, company, rows, base);
      const message = await repo.insertDigestMessage(trx, { kind: 'digest', customer_id: null, user_id: user.id, dedupe_key: `digest:${user.name}:${date}`, as_of: date, to_address: email, subject: body.subject.slice(0, 500), body_text: body.text, body_html: body.html, status: 'pending', error: null, attempts: 0, created_at: at, sent_at: null, exported_at: null });
      if (!message) return { result: 'already' as const, events: [], unchanged: true };
      const digested = await repo.markDigested(trx, rows.map((r) => r.id), at);
      return { result: { messageId: message.id, notifications: digested.length }, events: [{ type: 'notifications.digested', aggregate: 'user', id: user.id, after: { outbox_messages: [message], notifications: digested } }] };
    });
    if (written === 'already') run.alreadyWritten.push(user.name);
    else if (written) run.digests.push({ user: user.name, ...written });
  }
  return run;
}
