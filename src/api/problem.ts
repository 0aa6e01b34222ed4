import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, httpStatus, type ErrorKind } from '../shared/errors.ts';
import { MAX_ID, MAX_QUANTITY } from '../shared/bounds.ts';

/**
 * Errors as RFC 9457 problem details (`application/problem+json`), from one handler: the
 * core's DomainError kinds map through `httpStatus`; Fastify's own validation and parsing
 * errors become 400 (413 for a body over the limit) naming the field and the rule.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  field?: string;
  value?: unknown;
  rule?: string;
  problems?: unknown[];
}

const TITLES: Record<number, string> = { 400: 'Invalid request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict', 413: 'Payload too large', 414: 'URI too long', 415: 'Unsupported media type', 422: 'Unprocessable content', 429: 'Too many requests', 500: 'Internal error' };

// A schema's maximum that is one of the shared bounds answers with the bound's own rule,
// the same one the services use.
const BOUND_RULES = new Map<unknown, string>([
  [MAX_QUANTITY, 'quantity_max'],
  [MAX_ID, 'id_max'],
]);

/** The value at an Ajv instance path (`/lines/0/quantity`) of a request part. */
function valueAt(data: unknown, instancePath: string): unknown {
  let v = data;
  for (const key of instancePath.split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return v;
}

const PARTS: Record<string, keyof FastifyRequest> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

export function sendProblem(reply: FastifyReply, status: number, detail: string, extra: Partial<Problem> = {}): FastifyReply {
  const body: Problem = { type: `https://cashloop.dev/problems/${extra.rule ?? status}`, title: TITLES[status] ?? 'Error', status, detail, instance: reply.request.url, ...extra };
  return reply.status(status).type('application/problem+json').send(body);
}

export function problemForKind(kind: ErrorKind): number {
  return httpStatus(kind);
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof DomainError) {
    return sendProblem(reply, httpStatus(error.kind), error.message, {
      rule: error.detail.rule,
      field: error.detail.field,
      value: error.detail.value,
      ...(error.problems.length ? { problems: error.problems } : {}),
    });
  }
  const fe = error as FastifyError & { validation?: { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }[]; validationContext?: string };
  if (fe.validation) {
    const problems = fe.validation.map((v) => {
      const extraField = typeof v.params.additionalProperty === 'string' ? `/${v.params.additionalProperty}` : typeof v.params.missingProperty === 'string' ? `/${v.params.missingProperty}` : '';
      const field = `${fe.validationContext ?? 'body'}${(v.instancePath + extraField).replaceAll('/', '.')}`;
      const rule = v.keyword === 'additionalProperties' ? 'unknown_field' : v.keyword === 'maximum' ? BOUND_RULES.get(v.params.limit) ?? 'maximum' : v.keyword;
      const part = PARTS[fe.validationContext ?? 'body'];
      const value = part && v.instancePath !== '' && v.keyword !== 'required' && v.keyword !== 'additionalProperties' ? valueAt(request[part], v.instancePath) : undefined;
      return { field, rule, ...(value === undefined ? {} : { value }), message: `${field}: ${v.keyword === 'additionalProperties' ? 'is not a known field' : v.message ?? 'is invalid'}` };
    });
    return sendProblem(reply, 400, problems.map((p) => p.message).join('; '), { field: problems[0]?.field, value: problems[0]?.value, rule: problems[0]?.rule, problems });
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, 413, `the body is larger than ${request.routeOptions.bodyLimit ?? 'the limit'} bytes`, { rule: 'body_limit' });
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendProblem(reply, 415, 'send JSON with content-type application/json', { rule: 'media_type' });
  if (fe.code?.startsWith('FST_ERR_CTP') || error instanceof SyntaxError) return sendProblem(reply, 400, `the body is not valid JSON: ${error.message}`, { rule: 'json' });
  if (fe.statusCode === 429) return sendProblem(reply, 429, error.message, { rule: 'rate_limit' });
  if (fe.statusCode && fe.statusCode < 500) return sendProblem(reply, fe.statusCode, error.message, { rule: 'request' });
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, 500, 'the server could not complete the request; it has been logged', { rule: 'internal' });
}
