import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { listNotifications, markNotificationsRead, unreadNotifications } from '../../notifications/notification.service.ts';
import { html } from '../html.ts';
import { attempt, Form } from '../forms.ts';
import { csrfField, errorSummary, notice, page, pager, table, viewerOf } from '../layout.ts';
import { actorOf, sendPage } from '../reply.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in person's unread notifications, read before each workspace page for its header. */
    unreadNotices?: number;
  }
}

/**
 * Notifications: what the system told the signed-in person (their user's or key's name) —
 * new credit holds for credit controllers, dunning levels passed and broken promises of a
 * salesperson's customers — newest first, each linked to where to act. Every page's header
 * shows how many are unread; opening this page marks the ones it shows read (they keep their
 * "new" mark on that showing), and "Mark all read" clears the rest.
 */

const PAGE_SIZE = 25;

const KIND: Record<string, string> = { credit_hold: 'Credit hold', dunning_level: 'Dunning level', promise_broken: 'Promise broken' };

async function notificationsPage(core: Core, req: FastifyRequest, message: string | null, error: Parameters<typeof errorSummary>[0] = null): Promise<string> {
  const viewer = viewerOf(req);
  const q = Form.query(req);
  const unreadOnly = q.text('show') === 'unread';
  const list = await listNotifications(core, viewer.name, { unreadOnly, beforeId: q.text('after'), limit: PAGE_SIZE });
  const shownUnread = list.items.filter((n) => n.readAt === null).map((n) => n.id);
  if (shownUnread.length > 0) {
    // Seen now: the header's count drops by what this page shows; the list keeps their "new" mark this once.
    const { read } = await markNotificationsRead(core, viewer.name, shownUnread, actorOf(req));
    list.unread -= read;
    viewer.unread = list.unread;
  }
  return page(viewer, {
    title: 'Notifications',
    active: '/app/notifications',
    body: html`<h1>Notifications</h1>${notice(message)}${errorSummary(error)}
<section class="card" aria-labelledby="notes-h"><h2 id="notes-h">For ${viewer.name}: ${shownUnread.length} new${list.unread > 0 ? `, ${list.unread} more unread on other pages` : ''}</h2>
<p class="filters"><a href="/app/notifications"${unreadOnly ? '' : html` aria-current="page"`}>All</a> · <a href="/app/notifications?show=unread"${unreadOnly ? html` aria-current="page"` : ''}>Unread</a></p>
${table(
  'Notifications',
  [
    { label: 'When (UTC)', cell: (n) => n.createdAt.slice(0, 16).replace('T', ' ') },
    { label: 'What', cell: (n) => html`<strong>${KIND[n.kind] ?? n.kind}</strong>${n.readAt ? '' : html` <span class="badge amber">new</span>`}` },
    { label: 'Notice', cell: (n) => (n.link ? html`<a href="${n.link}">${n.subject}</a>` : n.subject) },
  ],
  list.items,
  unreadOnly ? 'Nothing unread.' : 'Nothing to tell you yet.',
)}
${list.unread > 0 ? html`<form method="post" action="/app/notifications/read">${csrfField(viewer)}<div class="actions"><button type="submit" class="secondary">Mark all read</button></div></form>` : ''}
${pager('/app/notifications', { show: unreadOnly ? 'unread' : null, after: q.text('after') || null }, list.next, false)}</section>`,
  });
}

export function registerNotifications(scope: FastifyInstance, core: Core): void {
  // Every page's header shows the unread count: read once per page request of a signed-in person.
  scope.addHook('preHandler', async (req) => {
    if (req.method !== 'GET' || !req.apiKey || req.url.startsWith('/app/assets/') || req.url.startsWith('/app/live')) return;
    req.unreadNotices = await unreadNotifications(core, req.apiKey.name);
  });
  scope.get('/app/notifications', { config: { permission: 'reports:read' }, schema: { hide: true } }, async (req, reply) => {
    const done = Form.query(req).text('done');
    return sendPage(reply, await notificationsPage(core, req, done === 'read' ? 'Marked read.' : null));
  });
  scope.post('/app/notifications/read', { config: { permission: 'reports:read' }, schema: { hide: true } }, async (req, reply) => {
    const viewer = viewerOf(req);
    const done = await attempt(() => markNotificationsRead(core, viewer.name, 'all', actorOf(req)));
    if (!done.ok) return sendPage(reply, await notificationsPage(core, req, null, done.error));
    return reply.redirect('/app/notifications?done=read', 303);
  });
}
