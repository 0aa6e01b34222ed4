import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import type { Core } from '../core.ts';
import type { Permission } from './permissions.ts';
import type { ApiKey } from './keys.service.ts';
import { facing } from '../shared/facing.ts';
import { runHandler } from './idempotency.hook.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission of the matrix this route needs; `open` for health checks. */
    permission?: Permission | 'open' | 'portal';
  }
  interface FastifyRequest {
    apiKey?: ApiKey;
    portalCustomerId?: number;
  }
}

/** Who acts, for the event log: `api:<key name>`. */
export const actorOf = (req: FastifyRequest): string => (req.apiKey ? `api:${req.apiKey.name}` : 'api');

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH';
  url: string;
  permission: Permission;
  summary: string;
  tag: string;
  body?: TSchema;
  params?: TSchema;
  querystring?: TSchema;
  /** Answer status for success (201 for creations). */
  status?: number;
  /** Schema of the success body (OpenAPI and serialisation). */
  response?: TSchema;
  /** A success body that is not JSON (a PDF): its media type; the handler returns the bytes. */
  produces?: string;
  /** With `produces`: the file name a browser saves the document under. */
  filename?(req: FastifyRequest, result: unknown): string;
  /** A path this route answered before it was renamed: kept as a 308 redirect, hidden from the OpenAPI document. */
  formerly?: string;
  handler(req: FastifyRequest, core: Core): Promise<unknown>;
}

/** A service's answer to a retry: the first document, `created: false`, nothing written. */
const isReplay = (result: unknown): boolean => typeof result === 'object' && result !== null && (result as { created?: unknown }).created === false;

/** Registers routes with their schemas, tag and permission; handlers return the body. */
export function addRoutes(app: FastifyInstance, core: Core, specs: RouteSpec[]): void {
  for (const s of specs) {
    const route: RouteOptions = {
      method: s.method,
      url: s.url,
      // An Idempotency-Key is claimed in the transaction of the handler's work (idempotency.hook.ts).
      config: { permission: s.permission, claimsKeyInChange: true },
      schema: {
        summary: s.summary,
        tags: [s.tag],
        security: [{ bearer: [] }],
        ...(s.body ? { body: s.body } : {}),
        ...(s.params ? { params: s.params } : {}),
        ...(s.querystring ? { querystring: s.querystring } : {}),
        // A creation answers 200 when it found the document already made (a retry).
        ...(s.response ? { response: { [s.status ?? 200]: s.response, ...(s.status === 201 ? { 200: s.response } : {}) } } : {}),
      },
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        const ran = await runHandler(core, req, reply, () => s.handler(req, core));
        if (!('result' in ran)) return reply;
        const result = ran.result;
        if (s.produces) {
          reply.type(s.produces).header('cache-control', 'private, no-store');
          if (s.filename) reply.header('content-disposition', `inline; filename="${s.filename(req, result).replace(/[^A-Za-z0-9._-]/g, '_')}"`);
        }
        return reply.status(s.status === 201 && isReplay(result) ? 200 : s.status ?? 200).send(s.produces ? result : facing(result));
      },
    };
    app.route(route);
    if (s.formerly) addRedirect(app, s.method, s.formerly, s.url, s.permission);
  }
}

/**
 * A renamed path answers 308 to its new name with the same parameters and query, so a client
 * written against the old name keeps working (308 keeps the method and the body of a POST).
 */
export function addRedirect(app: FastifyInstance, method: RouteSpec['method'], from: string, to: string, permission: Permission | 'portal'): void {
  app.route({
    method, url: from, config: { permission }, schema: { hide: true },
    handler: async (req, reply) => {
      const params = (req.params ?? {}) as Record<string, string>;
      const target = to.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      return reply.redirect(`${target}${query}`, 308);
    },
  });
}
