import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../core.ts';
import { eventsAfter, latestEventSeq, type EventRecord } from '../events/feed.service.ts';
import { allowed, type Permission } from '../api/permissions.ts';

/**
 * Live status for the workspace: server-sent events from the core's event feed. One
 * follower per server reads the events table by sequence number while anybody listens and
 * tells each open page what changed, by topic — `order`, `shipment`, `money`, `bank`,
 * `collections`, `customer` — coalesced per poll, and only the topics the viewer's role may
 * read. A page re-fetches its own list when its topic arrives (htmx `hx-trigger="sse:order"`),
 * so what it shows always comes from the services, filtered as the page asks.
 */

/** A topic, the tables whose after-images announce it, and the permission that may see it. */
const TOPICS: { topic: string; tables: string[]; permission: Permission }[] = [
  { topic: 'order', tables: ['orders', 'order_status_history'], permission: 'orders:read' },
  { topic: 'shipment', tables: ['shipments'], permission: 'shipments:read' },
  { topic: 'money', tables: ['invoices', 'payments', 'payment_allocations', 'credit_notes', 'write_offs'], permission: 'invoices:read' },
  { topic: 'bank', tables: ['bank_entries'], permission: 'payments:read' },
  { topic: 'collections', tables: ['collection_actions', 'promises_to_pay', 'disputes', 'dunning_notices', 'outbox_messages'], permission: 'collections:read' },
  { topic: 'customer', tables: ['customers'], permission: 'customers:read' },
];

export interface LiveMessage {
  topic: string;
  seq: number;
  /** Customers the changes touched (a page may refresh only when one of its own changed). */
  customers: number[];
  /** Orders the changes touched, with the status each reached. */
  orders: { id: number; status: string }[];
}

/** What a batch of events announces, per topic: the pure part of the follower. */
export function topicsOf(events: EventRecord[]): LiveMessage[] {
  const out = new Map<string, LiveMessage>();
  for (const e of events) {
    const payload = (e.payload ?? {}) as Record<string, unknown>;
    for (const t of TOPICS) {
      const rows = t.tables.flatMap((name) => (Array.isArray(payload[name]) ? (payload[name] as Record<string, unknown>[]) : []));
      if (rows.length === 0) continue;
      const m = out.get(t.topic) ?? { topic: t.topic, seq: e.seq, customers: [], orders: [] };
      m.seq = e.seq;
      for (const r of rows) {
        const customer = t.topic === 'customer' ? r.id : r.customer_id;
        if (typeof customer === 'number' && !m.customers.includes(customer)) m.customers.push(customer);
      }
      if (t.topic === 'order') {
        for (const o of (payload.orders as Record<string, unknown>[] | undefined) ?? []) {
          if (typeof o.id !== 'number' || typeof o.status !== 'string') continue;
          if (typeof o.customer_id === 'number' && !m.customers.includes(o.customer_id)) m.customers.push(o.customer_id);
          const known = m.orders.find((x) => x.id === o.id);
          if (known) known.status = o.status;
          else m.orders.push({ id: o.id, status: o.status });
        }
      }
      out.set(t.topic, m);
    }
  }
  return [...out.values()];
}

interface Listener {
  role: string;
  reply: FastifyReply;
}

export interface LiveOptions {
  /** How often the follower reads the feed while somebody listens (default 1000 ms). */
  pollMs?: number;
  /** A comment line that keeps proxies from closing a quiet stream (default 20 s). */
  heartbeatMs?: number;
}

/** Adds GET /app/live: the stream of changes, for any signed-in role. */
export function registerLive(scope: FastifyInstance, core: Core, options: LiveOptions = {}): void {
  const pollMs = options.pollMs ?? 1000;
  const heartbeatMs = options.heartbeatMs ?? 20_000;
  const listeners = new Set<Listener>();
  let lastSeq: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let beat: NodeJS.Timeout | null = null;
  let reading = false;

  const write = (l: Listener, text: string) => {
    if (!l.reply.raw.destroyed) l.reply.raw.write(text);
  };

  async function poll(): Promise<void> {
    if (reading) return;
    reading = true;
    try {
      if (lastSeq === null) lastSeq = await latestEventSeq(core.db);
      // Read until the feed is drained, one page at a time.
      for (;;) {
        const events = await eventsAfter(core.db, lastSeq, 1000);
        if (events.length === 0) break;
        lastSeq = events.at(-1)!.seq;
        const messages = topicsOf(events);
        for (const l of listeners) {
          for (const m of messages) {
            const t = TOPICS.find((x) => x.topic === m.topic)!;
            if (allowed(l.role, t.permission)) write(l, `id: ${m.seq}\nevent: ${m.topic}\ndata: ${JSON.stringify(m)}\n\n`);
          }
        }
        if (events.length < 1000) break;
      }
    } catch (error) {
      scope.log.error({ err: error }, 'live feed: reading the events failed; trying again');
    } finally {
      reading = false;
    }
  }

  function start(): void {
    if (timer) return;
    timer = setInterval(() => void poll(), pollMs);
    beat = setInterval(() => listeners.forEach((l) => write(l, ': still here\n\n')), heartbeatMs);
  }

  function stop(): void {
    if (timer) clearInterval(timer);
    if (beat) clearInterval(beat);
    timer = beat = null;
    // The next listener starts from the feed's end then, not from a number long past.
    lastSeq = null;
  }

  scope.get('/app/live', { config: { permission: 'reports:read' }, schema: { hide: true } }, async (req: FastifyRequest, reply: FastifyReply) => {
    // Start from the end of the feed before answering, so no change after the page loaded is missed.
    if (lastSeq === null) lastSeq = await latestEventSeq(core.db);
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    reply.raw.write(`retry: 3000\n: following the event feed from ${lastSeq}\n\n`);
    const listener: Listener = { role: req.apiKey!.role, reply };
    listeners.add(listener);
    start();
    req.raw.on('close', () => {
      listeners.delete(listener);
      if (listeners.size === 0) stop();
    });
  });

  // A server closing ends every stream, or it would wait for browsers to hang up.
  scope.addHook('preClose', async () => {
    for (const l of listeners) l.reply.raw.end();
    listeners.clear();
    stop();
  });
}
