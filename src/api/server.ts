import fs from 'node:fs';
import path from 'node:path';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Core } from '../core.ts';
import { ping } from '../db/connection.ts';
import { hashSecret } from './keys.service.ts';
import { addAccessRoutes, CSRF_COOKIE, registerAccess, SESSION_COOKIE, type AccessOptions } from './auth/access.ts';
import { LOG_REDACT, logSerializers, redactUrl } from './auth/redact.ts';
import { errorHandler, sendProblem } from './problem.ts';
import { addRoutes, type RouteSpec } from './http.ts';
import { customerRoutes } from './routes/customers.routes.ts';
import { catalogRoutes } from './routes/catalog.routes.ts';
import { orderRoutes } from './routes/orders.routes.ts';
import { shippingRoutes } from './routes/shipping.routes.ts';
import { creditRoutes } from './routes/credit.routes.ts';
import { invoicingRoutes } from './routes/invoicing.routes.ts';
import { paymentRoutes } from './routes/payments.routes.ts';
import { collectionRoutes } from './routes/collections.routes.ts';
import { accessRoutes } from './routes/access.routes.ts';
import { documentRoutes } from './routes/documents.routes.ts';
import { registerPortal } from './portal.ts';
import { checkQueryEncoding, checkRequestText, finiteNumbers, frameworkError } from './input-guard.ts';
import { registerIdempotency } from './idempotency.hook.ts';
import { registerWorkspace, type WorkspaceOptions } from '../workspace/routes.ts';

export interface ServerOptions {
  /** Pino logger options, `true` for JSON logs on stdout, `false` (default) for none. */
  logger?: boolean | Record<string, unknown>;
  /**
   * With a logger: one line when each request comes in and one when it is answered (default
   * true). About a tenth of an order creation's time over HTTP (`npm run bench:api --
   * --profile`); `cashloop serve` leaves it off unless CASHLOOP_LOG_REQUESTS=true, and logs
   * errors either way.
   */
  logRequests?: boolean;
  /** Requests per minute per API key (or per address without one). */
  rateLimitPerMinute?: number;
  bodyLimit?: number;
  /** The built reports site to serve at /reports (default: none). */
  siteDir?: string;
  /** More route specs from other business areas (collections…), under the same auth. */
  extraRoutes?: RouteSpec[];
  /** How long a retry waits for the first request with its Idempotency-Key (default 5 s). */
  idempotencyWaitMs?: number;
  /** Sessions and sign-in: Secure cookies, the failed-authentication limit (src/api/auth/access.ts). */
  access?: AccessOptions;
  /** The web workspace at /app (src/workspace): how often its live updates read the event feed. */
  workspace?: WorkspaceOptions;
}

/** Every route of the core's API, in one list: the OpenAPI document and the role test walk it. */
export const coreRouteSpecs: RouteSpec[] = [...customerRoutes, ...catalogRoutes, ...orderRoutes, ...creditRoutes, ...shippingRoutes, ...invoicingRoutes, ...paymentRoutes, ...collectionRoutes, ...accessRoutes, ...documentRoutes];

/** The URL with secret query values (`key`, `token`, any spelling) masked, for logs. */
export const scrubUrl = redactUrl;

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

/**
 * Builds the HTTP API on a core: REST JSON over every core action, problem+json errors,
 * API keys with roles on every route, Idempotency-Key replay, rate limits, OpenAPI at
 * /openapi.json and docs at /docs, the customer portal, and the reports at /reports.
 * Browsers sign in (or pass a key once as `?key=`, a portal token as `?token=`) and get a
 * server-side session (src/api/auth/).
 */
export async function buildServer(core: Core, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      options.logger === undefined || options.logger === false
        ? false
        : {
            ...(options.logger === true ? {} : options.logger),
            redact: LOG_REDACT,
            // Keys and tokens given in the query string never reach the log, however spelled.
            serializers: logSerializers,
          },
    ...(options.logRequests === false ? { logController: new LogController({ disableRequestLogging: true }) } : {}),
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    requestIdHeader: 'x-request-id',
    frameworkErrors: frameworkError,
  });
  // Bodies are JSON and must have the right types ("42" is not a number); path and query
  // values are text and are converted to the declared types.
  const strictAjv = addFormats.default(new Ajv({ removeAdditional: false, coerceTypes: false, allErrors: true, useDefaults: true }));
  const coercingAjv = addFormats.default(new Ajv({ removeAdditional: false, coerceTypes: 'array', allErrors: true, useDefaults: true }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strictAjv.compile(schema) : finiteNumbers(coercingAjv.compile(schema))));
  app.setErrorHandler(errorHandler);
  // An action without a body (POST /orders/1/submit) may still say it sends JSON.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, 404, `no route ${req.method} ${req.url.split('?')[0]}`, { rule: 'route_exists' }));
  // Before anything reads the request: escapes that decode, text without control characters.
  app.addHook('onRequest', checkQueryEncoding);
  app.addHook('preValidation', checkRequestText);

  // Every route declares a permission; documentation routes need any valid key.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), permission: route.config?.permission ?? 'reports:read' } as typeof route.config;
  });

  const access = await registerAccess(app, core, options.access);

  await app.register(rateLimit, {
    global: true,
    max: options.rateLimitPerMinute ?? 6000,
    timeWindow: '1 minute',
    keyGenerator: (req) => {
      const secret = bearer(req) ?? req.cookies[SESSION_COOKIE];
      return secret ? hashSecret(secret) : req.ip;
    },
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, message: `rate limit of ${ctx.max} requests per ${ctx.after} reached` }),
  });

  // Idempotency-Key on POSTs: reserved before the work, bound to the request, replayed to retries.
  registerIdempotency(app, core, { waitMs: options.idempotencyWaitMs });

  await app.register(swagger, {
    openapi: {
      info: { title: 'cashloop API', version: '0.2.0', description: 'Order-to-cash: customers, products and stock, orders and credit, shipping, invoicing, payments, statements; the customer portal.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API key from `cashloop apikey create`' },
          portal: { type: 'http', scheme: 'bearer', description: 'portal token from `cashloop customer portal-token ID`' },
        },
      },
    },
  });
  // "Try it out" in the docs sends the session's CSRF token (readable cookie), so a signed-in browser can write there too.
  const sendCsrfToken = new Function('request', `const m = /(?:^|;\\s*)${CSRF_COOKIE}=([^;]+)/.exec(document.cookie); if (m) request.headers['x-csrf-token'] = decodeURIComponent(m[1]); return request;`);
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { requestInterceptor: sendCsrfToken } as Record<string, unknown> });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/favicon.ico', { config: { permission: 'open' }, schema: { hide: true } }, async (_req, reply) => reply.status(204).send());
  app.get('/health', { config: { permission: 'open' }, schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/ready', { config: { permission: 'open' }, schema: { hide: true } }, async (_req, reply) =>
    (await ping(core.db)) ? { status: 'ready', database: core.db.dialect } : reply.status(503).send({ status: 'unavailable' }),
  );

  addRoutes(app, core, [...coreRouteSpecs, ...(options.extraRoutes ?? [])]);
  registerPortal(app, core);
  await registerWorkspace(app, core, options.workspace);
  if (options.siteDir) serveSite(app, options.siteDir);
  const siteDir = options.siteDir;
  await addAccessRoutes(app, core, access, { reports: () => siteDir !== undefined && fs.existsSync(path.join(siteDir, 'index.html')) });
  return app;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.csv': 'text/csv', '.svg': 'image/svg+xml', '.png': 'image/png' };

/** The published reports, for any key (viewer or above). */
function serveSite(app: FastifyInstance, siteDir: string): void {
  const root = path.resolve(siteDir);
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    // The router has decoded the path once already; decoding again would read `%25` as an escape.
    const rel = (req.params as { '*'?: string })['*'] ?? '';
    let file = path.join(root, rel);
    if (file !== root && !file.startsWith(root + path.sep)) return sendProblem(reply, 404, 'no such report', { rule: 'route_exists' });
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    if (!fs.existsSync(file)) return sendProblem(reply, 404, fs.existsSync(root) ? `no report ${rel}` : 'the reports have not been built yet: run `cashloop pipeline run all`', { rule: 'route_exists' });
    // Pages are sent whole: their Content-Security-Policy names the hashes of their inline scripts.
    return reply.type(TYPES[path.extname(file)] ?? 'application/octet-stream').send(path.extname(file) === '.html' ? await fs.promises.readFile(file) : fs.createReadStream(file));
  };
  app.get('/reports', { config: { permission: 'reports:read' }, schema: { hide: true } }, async (req, reply) => reply.redirect(`/reports/${req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''}`));
  app.get('/reports/*', { config: { permission: 'reports:read' }, schema: { hide: true } }, handler);
}
