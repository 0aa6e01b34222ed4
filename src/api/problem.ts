import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, httpStatus, type ErrorKind } from '../shared/errors.ts';

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

const TITLES: Record<number, string> = { 400: 'Invalid request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict', 413: 'Payload too large', 415: 'Unsupported media type', 422: 'Unprocessable content', 429: 'Too many requests', 500: 'Internal error' };

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
      const rule = v.keyword === 'additionalProperties' ? 'unknown_field' : v.keyword === 'required' ? 'required' : v.keyword;
      return { field, rule, message: `${field}: ${v.keyword === 'additionalProperties' ? 'is not a known field' : v.message ?? 'is invalid'}` };
    });
    return sendProblem(reply, 400, problems.map((p) => p.message).join('; '), { field: problems[0]?.field, rule: problems[0]?.rule, problems });
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, 413, `the body is larger than ${request.routeOptions.bodyLimit ?? 'the limit'} bytes`, { rule: 'body_limit' });
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendProblem(reply, 415, 'send JSON with content-type application/json', { rule: 'media_type' });
  if (fe.code?.startsWith('FST_ERR_CTP') || error instanceof SyntaxError) return sendProblem(reply, 400, `the body is not valid JSON: ${error.message}`, { rule: 'json' });
  if (fe.statusCode === 429) return sendProblem(reply, 429, error.message, { rule: 'rate_limit' });
  if (fe.statusCode && fe.statusCode < 500) return sendProblem(reply, fe.statusCode, error.message);
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, 500, 'the server could not complete the request; it has been logged', { rule: 'internal' });
}
