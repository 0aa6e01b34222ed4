import type { Core, Tx } from '../core.ts';
import { runChange } from '../core.ts';
import { displayMoney } from '../shared/figures.ts';
import { requireId } from '../shared/validate.ts';
import { invalid } from '../shared/errors.ts';
import * as repo from './notification.repository.ts';

/**
 * Notifications: what the system tells a person, in the workspace and in the daily digest.
 * The rules:
 *
 * - a new credit hold tells every enabled user of role `credit` (raised in the submission's
 *   own transaction, so a hold and its notice are written together or not at all);
 * - an invoice of a customer passing a dunning level tells the customer's salesperson
 *   (`sales_rep`, a user's name), and so does a broken promise to pay (both raised by
 *   `raiseNotifications`, which the scheduler runs; it looks back `LOOK_BACK_DAYS`).
 *
 * Each notice is raised once: its `dedupe_key` names what it is about, and the database keeps
 * the key unique, so rules that run twice, or at once, tell a person once.
 */
export interface Notification {
  id: number;
  recipient: string;
  kind: 'credit_hold' | 'dunning_level' | 'promise_broken' | string;
  subject: string;
  link: string | null;
  customerId: number | null;
  createdAt: string;
  readAt: string | null;
}

export const LOOK_BACK_DAYS = 7;

const toNotification = (r: repo.NotificationRow): Notification => ({ id: r.id, recipient: r.recipient, kind: r.kind, subject: r.subject, link: r.link, customerId: r.customer_id, createdAt: r.created_at, readAt: r.read_at });

/** Tells the credit controllers about a new hold; called inside the submission's transaction. Answers the rows written (for its event). */
export async function notifyCreditHold(trx: Tx, hold: { orderId: number; customerId: number; customerName: string; totalMinor: number; currency: string; reasons: string[] }, at: string): Promise<repo.NotificationRow[]> {
  const controllers = await repo.enabledUsersOfRole(trx, 'credit');
  const subject = `Order ${hold.orderId} of ${hold.customerName} (${displayMoney(hold.totalMinor, hold.currency)}) is on credit hold: ${hold.reasons.join('; ')}`;
  return repo.insertNew(
    trx,
    controllers.map((name) => ({ recipient: name, kind: 'credit_hold', subject: subject.slice(0, 1000), link: `/app/credit#hold-${hold.orderId}`, customer_id: hold.customerId, dedupe_key: `credit_hold:${hold.orderId}:${name}`, created_at: at, read_at: null, digested_at: null })),
  );
}

/**
 * Raises the salespeople's notices: invoices of their customers that passed a dunning level,
 * and promises to pay broken, within the last `LOOK_BACK_DAYS` days. Answers how many were new.
 */
export async function raiseNotifications(core: Core, actor: string): Promise<{ raised: number }> {
  const now = core.clock.now();
  const since = new Date(now.getTime() - LOOK_BACK_DAYS * 86_400_000).toISOString();
  return runChange(core, actor, async ({ trx, at }) => {
    const notices = await repo.dunningNoticesSince(trx, since);
    const promises = await repo.brokenPromisesSince(trx, since.slice(0, 10));
    const rows = [
      ...notices.map((d) => ({
        recipient: d.sales_rep!, kind: 'dunning_level', customer_id: d.customer_id, link: `/app/customers/${d.customer_id}`,
        subject: `${d.customer_name}: invoice ${d.number} reached dunning level ${d.level} (${d.level_name}), ${d.days_past_due} days past due, ${displayMoney(d.balance_minor, d.currency)} open`,
        dedupe_key: `dunning_level:${d.id}`, created_at: at, read_at: null, digested_at: null,
      })),
      ...promises.map((p) => ({
        recipient: p.sales_rep!, kind: 'promise_broken', customer_id: p.customer_id, link: `/app/customers/${p.customer_id}`,
        subject: `${p.customer_name} broke the promise to pay ${displayMoney(p.amount_minor, p.currency)} by ${p.promised_date}`,
        dedupe_key: `promise_broken:${p.id}`, created_at: at, read_at: null, digested_at: null,
      })),
    ];
    const raised = await repo.insertNew(trx, rows);
    if (raised.length === 0) return { result: { raised: 0 }, events: [], unchanged: true };
    return { result: { raised: raised.length }, events: [{ type: 'notifications.raised', aggregate: 'notification', id: 'batch', after: { notifications: raised } }] };
  });
}

/** A person's notifications, newest first (`beforeId`: the oldest of the previous page). */
export async function listNotifications(core: Core, recipient: string, options: { unreadOnly?: boolean; beforeId?: unknown; limit?: number } = {}): Promise<{ items: Notification[]; unread: number; next: number | null }> {
  const limit = options.limit ?? 25;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid(`limit must be a whole number from 1 to 1000, got ${limit}`, { field: 'limit', value: limit, rule: 'range' });
  const beforeId = options.beforeId === undefined || options.beforeId === '' ? undefined : requireId(options.beforeId, 'after');
  const db = core.db.kysely;
  const rows = await repo.notificationsOf(db, recipient, { unreadOnly: options.unreadOnly ?? false, beforeId, limit: limit + 1 });
  const items = rows.slice(0, limit).map(toNotification);
  return { items, unread: await repo.unreadCount(db, recipient), next: rows.length > limit ? items.at(-1)!.id : null };
}

export async function unreadNotifications(core: Core, recipient: string): Promise<number> {
  return repo.unreadCount(core.db.kysely, recipient);
}

/** Marks a person's notifications read (some, by id, or all); answers how many changed. */
export async function markNotificationsRead(core: Core, recipient: string, ids: unknown[] | 'all', actor: string): Promise<{ read: number }> {
  const list = ids === 'all' ? 'all' : ids.map((id, i) => requireId(id, `ids.${i}`));
  return runChange(core, actor, async ({ trx, at }) => {
    const read = await repo.markRead(trx, recipient, at, list);
    if (read.length === 0) return { result: { read: 0 }, events: [], unchanged: true };
    return { result: { read: read.length }, events: [{ type: 'notifications.read', aggregate: 'notification', id: recipient, after: { notifications: read } }] };
  });
}
