import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { Core } from '../core.ts';
import { DomainError, httpStatus } from '../shared/errors.ts';
import { errorHandler } from '../api/problem.ts';
import { html } from './html.ts';
import { sendPage } from './reply.ts';
import { acceptWorkspaceForms, type FormBody } from './forms.ts';
import { beginRequest, completeRequest, releaseRequest, type Reservation } from '../idempotency/idempotency.service.ts';
import { page, PAGES, viewerOf } from './layout.ts';
import { registerLive, type LiveOptions } from './live.ts';
import { registerOrderDesk } from './pages/order-desk.page.ts';
import { registerCredit } from './pages/credit.page.ts';
import { registerLogistics } from './pages/logistics.page.ts';
import { registerCash } from './pages/cash.page.ts';
import { registerCollections } from './pages/collections.page.ts';
import { registerSales } from './pages/sales.page.ts';
import { registerCustomers } from './pages/customer.page.ts';
import { registerNotifications } from './pages/notifications.page.ts';

/**
 * The web workspace at /app: server-rendered pages over the core services, htmx for the
 * parts that change in place, server-sent events for live status. Pages use the sessions,
 * CSRF tokens and roles of src/api/auth and src/api/permissions.ts; every route names the
 * permission it needs, and every write checks the session's CSRF token (the access hook).
 */
export interface WorkspaceOptions {
  live?: LiveOptions;
}

const require = createRequire(import.meta.url);

declare module 'fastify' {
  interface FastifyRequest {
    /** The form's one-time token this request holds while its handler runs. */
    formOnce?: Reservation;
  }
}

/** Files the pages load, read once from this package and node_modules: nothing from another host. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'htmx.min.js': { file: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'sse.min.js': { file: require.resolve('htmx-ext-sse/dist/sse.min.js'), type: 'text/javascript; charset=utf-8' },
  'workspace.css': { file: new URL('./assets/workspace.css', import.meta.url).pathname, type: 'text/css; charset=utf-8' },
  'workspace.js': { file: new URL('./assets/workspace.js', import.meta.url).pathname, type: 'text/javascript; charset=utf-8' },
};

export async function registerWorkspace(app: FastifyInstance, core: Core, options: WorkspaceOptions = {}): Promise<void> {
  const assets = new Map(Object.entries(ASSETS).map(([name, a]) => [name, { body: fs.readFileSync(a.file), type: a.type }]));
  await app.register(async (scope) => {
    acceptWorkspaceForms(scope);
    // A refusal on a page is shown as a page; API clients still get problem+json.
    scope.setErrorHandler((error, req, reply) => {
      const asPage = /\btext\/html\b/.test(req.headers.accept ?? '') && req.apiKey && error instanceof DomainError;
      if (!asPage) return errorHandler(error as Error, req, reply);
      const viewer = viewerOf(req);
      const code = httpStatus(error.kind);
      if (req.headers['hx-request']) return sendPage(reply, html`<div class="alert error" role="alert">${error.message}</div>`.text, code);
      return sendPage(reply, page(viewer, { title: 'Not possible', body: html`<h1>That did not work</h1><div class="alert error" role="alert">${error.message}${error.detail.rule ? html` <span class="rule">(rule: ${error.detail.rule})</span>` : ''}</div><p><a href="/app">Back to the workspace</a></p>` }), code);
    });

    // Every form carries a one-time token (`_once`, new with each page): a form sent twice — a
    // double click, a retry after a lost answer, two at once — does its work once, and the
    // second is sent where the first went. The idempotency service keeps the token, as it
    // keeps the API's Idempotency-Keys; a refused form gives its token up, to be sent again.
    scope.addHook('preHandler', async (req, reply) => {
      const body = req.body as FormBody | undefined;
      if (req.method !== 'POST' || !req.apiKey || !body || typeof body !== 'object' || typeof body._once !== 'string') return;
      const once = body._once;
      delete body._once;
      const begun = await beginRequest(core, { scope: `app:${req.apiKey.id}`, key: once, method: 'POST', path: req.url, body });
      if (begun.outcome === 'replay') return reply.redirect(begun.response.body, 303);
      req.formOnce = begun.reservation;
    });
    scope.addHook('onSend', async (req, reply, payload) => {
      const reservation = req.formOnce;
      if (!reservation) return payload;
      req.formOnce = undefined;
      const location = reply.getHeader('location');
      try {
        if (reply.statusCode === 303 && typeof location === 'string') await completeRequest(core, reservation, { status: 303, contentType: 'text/plain; charset=utf-8', body: location });
        else await releaseRequest(core, reservation);
      } catch (error) {
        // The work is done and the page is ready: the user gets it; the token's lease runs out by itself.
        req.log.error({ err: error }, 'the one-time token of a form could not be stored');
      }
      return payload;
    });

    scope.get('/app/assets/:name', { config: { permission: 'open' }, schema: { hide: true } }, async (req, reply) => {
      const asset = assets.get((req.params as { name: string }).name);
      if (!asset) return reply.status(404).type('text/plain').send('no such asset');
      return reply.header('cache-control', 'public, max-age=3600').type(asset.type).send(asset.body);
    });

    scope.get('/app', { config: { permission: 'reports:read' }, schema: { hide: true } }, async (req, reply) => {
      const viewer = viewerOf(req);
      const mine = PAGES.filter((p) => viewer.can(p.permission));
      return sendPage(
        reply,
        page(viewer, {
          title: 'Workspace',
          body: html`<h1>Workspace</h1><p class="muted">Signed in as ${viewer.name} (${viewer.role}). Your role opens these pages:</p>
<ul class="tiles">${mine.map((p) => html`<li><a href="${p.path}"><strong>${p.label}</strong><span>${p.what}</span></a></li>`)}</ul>
<p class="muted">Reports: <a href="/reports/">/reports</a> · API docs: <a href="/docs/">/docs</a></p>`,
        }),
      );
    });

    registerLive(scope, core, options.live);
    registerOrderDesk(scope, core);
    registerCredit(scope, core);
    registerLogistics(scope, core);
    registerCash(scope, core);
    registerCollections(scope, core);
    registerSales(scope, core);
    registerCustomers(scope, core);
    registerNotifications(scope, core);
  });
}
