import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { firstChange, type Core, type FirstChangeClaim } from '../core.ts';
import { DomainError } from '../shared/errors.ts';
import {
  beginRequest, claimKey, completeRequest, KeyTaken, lookUpRequest, releaseRequest, RETRY_AFTER_SECONDS, storeAnswer,
  type Deferred, type IdempotentRequest, type Reservation,
} from '../idempotency/idempotency.service.ts';

/** A key nobody held when the request came in: claimed by the first change its handler runs. */
export interface DeferredKey {
  deferred: Deferred;
  request: IdempotentRequest;
  waitMs?: number;
  /** Handed to runChange (src/core.ts `firstChange`) while the handler runs. */
  store: FirstChangeClaim;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The Idempotency-Key this request holds while its handler runs. */
    idempotency?: Reservation;
    /** The Idempotency-Key this request will claim in the transaction of its work. */
    idempotencyDeferred?: DeferredKey;
  }
  interface FastifyContextConfig {
    /** The route's handler does its work through runChange: a new key is claimed in that transaction. */
    claimsKeyInChange?: boolean;
  }
}

/**
 * Idempotency-Key on POSTs made with an API key (docs/api.md, "Idempotency"). The key is
 * taken after authentication and validation, so a refused or malformed request stores
 * nothing; the handler's answer is stored when it is below 500 and the key released
 * otherwise, before the client sees the answer. The rules live in src/idempotency/.
 *
 * On the API's own routes (`claimsKeyInChange`, set by addRoutes) a key that is new is not
 * reserved in a commit of its own: the handler's first change claims it in its own
 * transaction (`runHandler`), so the key and the work commit together, and the answer is
 * stored right after. Other routes reserve it first, as before.
 */
export function registerIdempotency(app: FastifyInstance, core: Core, options: { waitMs?: number } = {}): void {
  app.addHook('preHandler', async (req, reply) => {
    const key = req.headers['idempotency-key'];
    // Only POSTs of a route of the API (not the 404 answer), made with an API key.
    if (req.method !== 'POST' || key === undefined || !req.apiKey || req.routeOptions.url === undefined) return;
    try {
      const request: IdempotentRequest = { scope: String(req.apiKey.id), key: String(key), method: req.method, path: req.url, body: req.body };
      const begun = req.routeOptions.config?.claimsKeyInChange ? await lookUpRequest(core, request, options) : await beginRequest(core, request, options);
      if (begun.outcome === 'replay') return replay(reply, begun.response);
      if (begun.outcome === 'deferred') {
        const pending: DeferredKey = { deferred: begun.deferred, request, waitMs: options.waitMs, store: {} };
        pending.store.claim = async (trx) => {
          req.idempotency = await claimKey(core, trx, begun.deferred);
        };
        req.idempotencyDeferred = pending;
      } else req.idempotency = begun.reservation;
    } catch (error) {
      throw inFlight(error, reply);
    }
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const reservation = req.idempotency;
    const pending = req.idempotencyDeferred;
    if (!reservation && !pending) return payload;
    req.idempotency = undefined;
    req.idempotencyDeferred = undefined;
    try {
      if (reply.statusCode < 500 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
        const contentType = String(reply.getHeader('content-type') ?? 'application/json; charset=utf-8');
        const answer = { status: reply.statusCode, contentType, body: payload.toString() };
        const stored = reservation ? await completeRequest(core, reservation, answer) : false;
        // Deferred and never claimed (the work failed and was rolled back, or wrote nothing): the answer is stored now.
        if (!stored && pending) await storeAnswer(core, pending.deferred, answer);
      } else if (reservation) {
        await releaseRequest(core, reservation);
      }
    } catch (error) {
      // The work is done and its answer is ready: the client gets it. The key stays reserved
      // until its lease runs out, after which a retry runs the work again.
      req.log.error({ err: error, idempotencyKey: (reservation ?? pending?.deferred)?.key }, 'the answer of an idempotent request could not be stored');
    }
    return payload;
  });
}

function replay(reply: FastifyReply, response: { status: number; contentType: string; body: string }) {
  reply.header('idempotent-replayed', 'true');
  return reply.status(response.status).type(response.contentType).send(response.body);
}

function inFlight(error: unknown, reply: FastifyReply): unknown {
  if (error instanceof DomainError && error.detail.rule === 'idempotency_in_flight') reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return error;
}

/**
 * Runs a route's handler. With a deferred key, the handler runs with the claim handed to its
 * first change; when another request claimed the key first (its change failed with
 * `KeyTaken` and wrote nothing), this request starts over as a retry: it waits for that
 * answer and replays it (`replayed`), or, if the key is free again, reserves it and runs.
 */
export async function runHandler<T>(core: Core, req: FastifyRequest, reply: FastifyReply, handler: () => Promise<T>): Promise<{ result: T } | { replayed: true }> {
  const pending = req.idempotencyDeferred;
  if (!pending) return { result: await handler() };
  try {
    return { result: await firstChange.run(pending.store, handler) };
  } catch (error) {
    if (!(error instanceof KeyTaken)) throw error;
  }
  req.idempotencyDeferred = undefined;
  req.idempotency = undefined;
  let begun;
  try {
    begun = await beginRequest(core, pending.request, { waitMs: pending.waitMs });
  } catch (error) {
    throw inFlight(error, reply);
  }
  if (begun.outcome === 'replay') {
    replay(reply, begun.response);
    return { replayed: true };
  }
  req.idempotency = begun.reservation;
  return { result: await handler() };
}
