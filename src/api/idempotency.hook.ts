import type { FastifyInstance } from 'fastify';
import type { Core } from '../core.ts';
import { DomainError } from '../shared/errors.ts';
import { beginRequest, completeRequest, releaseRequest, RETRY_AFTER_SECONDS, type Reservation } from '../idempotency/idempotency.service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The Idempotency-Key this request holds while its handler runs. */
    idempotency?: Reservation;
  }
}

/**
 * Idempotency-Key on POSTs made with an API key (docs/api.md, "Idempotency"). The key is
 * taken after authentication and validation, so a refused or malformed request stores
 * nothing; the handler's answer is stored when it is below 500 and the key released
 * otherwise, before the client sees the answer. The rules live in src/idempotency/.
 */
export function registerIdempotency(app: FastifyInstance, core: Core, options: { waitMs?: number } = {}): void {
  app.addHook('preHandler', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    // Only POSTs of a route of the API (not the 404 answer), made with an API key.
    if (req.method !== 'POST' || key === undefined || !req.apiKey || req.routeOptions.url === undefined) return;
    try {
      const begun = await beginRequest(core, { scope: String(req.apiKey.id), key: String(key), method: req.method, path: req.url, body: req.body }, options);
      if (begun.outcome === 'replay') {
        reply.header('idempotent-replayed', 'true');
        return reply.status(begun.response.status).type(begun.response.contentType).send(begun.response.body);
      }
      req.idempotency = begun.reservation;
    } catch (error) {
      if (error instanceof DomainError && error.detail.rule === 'idempotency_in_flight') reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      throw error;
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const reservation = req.idempotency;
    if (!reservation) return payload;
    req.idempotency = undefined;
    try {
      if (reply.statusCode < 500 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
        const contentType = String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8');
        await completeRequest(core, reservation, { status: reply.statusCode, contentType, body: payload.toString() });
      } else {
        await releaseRequest(core, reservation);
      }
    } catch (error) {
      // The work is done and its answer is ready: the client gets it. The key stays reserved
      // until its lease runs out, after which a retry runs the work again.
      req.log.error({ err: error, idempotencyKey: reservation.key }, 'the answer of an idempotent request could not be stored');
    }
    return payload;
  });
}
