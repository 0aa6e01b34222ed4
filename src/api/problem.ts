import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, httpStatus, type ErrorKind } from '../shared/errors.ts';
import { MAX_ID, MAX_QUANTITY } from '../shared/bounds.ts';
import { PATTERN_WORDS } from './routes/schemas.ts';

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
    const problems = validationProblems(fe.validation, fe.validationContext ?? 'body', request);
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

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const TYPE_WORDS: Record<string, string> = { integer: 'must be a whole number', number: 'must be a number', string: 'must be text', boolean: 'must be true or false', object: 'must be an object', array: 'must be a list', null: 'must be null' };

/** The rule and the words for one broken schema keyword: the CLI's words for the same mistake. */
function ruleAndWords(v: AjvError): { rule: string; words: string } {
  const p = v.params;
  switch (v.keyword) {
    case 'required': return { rule: 'required', words: 'is required' };
    case 'additionalProperties': return { rule: 'unknown_field', words: 'is not a known field' };
    case 'pattern': return PATTERN_WORDS[String(p.pattern)] ?? { rule: 'pattern', words: `must match ${String(p.pattern)}` };
    // A number too large to be finite (`1e400`) comes without a type: every number the API takes is whole.
    case 'type': return p.type === undefined || p.type === 'integer' ? { rule: 'integer', words: TYPE_WORDS.integer! } : { rule: 'type', words: TYPE_WORDS[String(p.type)] ?? `must be ${String(p.type)}` };
    case 'minimum': return { rule: p.limit === 1 ? 'positive' : 'minimum', words: `must be at least ${String(p.limit)}` };
    case 'maximum': return { rule: BOUND_RULES.get(p.limit) ?? 'maximum', words: `must be at most ${String(p.limit)}` };
    case 'minLength': return p.limit === 1 ? { rule: 'required', words: 'is required' } : { rule: 'min_length', words: `must be at least ${String(p.limit)} characters` };
    case 'maxLength': return { rule: 'max_length', words: `must be at most ${String(p.limit)} characters` };
    case 'minItems': return { rule: 'min_items', words: `must hold at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}` };
    case 'maxItems': return { rule: 'max_items', words: `must hold at most ${String(p.limit)} items` };
    case 'format': return { rule: `${String(p.format).replaceAll('-', '_')}_format`, words: p.format === 'date-time' ? 'must be a date and time like 2026-03-02T09:00:00Z' : `must be a ${String(p.format)}` };
    default: return { rule: v.keyword, words: v.message ?? 'is invalid' };
  }
}

/**
 * Fastify's schema errors as the CLI says them: one problem per field, `<field> <rule in
 * words>, got <value>`. A choice among literals (Ajv reports each `const` it tried, then
 * `anyOf`) becomes one `must be one of a, b, c`, rule `one_of`.
 */
export function validationProblems(errors: AjvError[], context: string, request: FastifyRequest): { field: string; rule: string; value?: unknown; message: string }[] {
  const part = PARTS[context];
  const choices = new Map<string, unknown[]>();
  for (const v of errors) if (v.keyword === 'const' || v.keyword === 'enum') choices.set(v.instancePath, [...(choices.get(v.instancePath) ?? []), ...(v.keyword === 'const' ? [v.params.allowedValue] : (v.params.allowedValues as unknown[]))]);
  const seen = new Set<string>();
  const out: { field: string; rule: string; value?: unknown; message: string }[] = [];
  for (const v of errors) {
    const extraField = typeof v.params.additionalProperty === 'string' ? `/${v.params.additionalProperty}` : typeof v.params.missingProperty === 'string' ? `/${v.params.missingProperty}` : '';
    const field = `${context}${(v.instancePath + extraField).replaceAll('/', '.')}`;
    const allowed = choices.get(v.instancePath);
    if (allowed && (v.keyword === 'const' || v.keyword === 'enum' || v.keyword === 'anyOf' || v.keyword === 'type')) {
      if (seen.has(field)) continue;
      seen.add(field);
      const value = part ? valueAt(request[part], v.instancePath) : undefined;
      out.push({ field, rule: 'one_of', ...(value === undefined ? {} : { value }), message: `${field} must be one of ${allowed.map(String).join(', ')}${value === undefined ? '' : `, got ${JSON.stringify(value)}`}` });
      continue;
    }
    if (v.keyword === 'anyOf' && seen.has(field)) continue;
    seen.add(field);
    const { rule, words } = ruleAndWords(v);
    const value = part && v.instancePath !== '' && v.keyword !== 'required' && v.keyword !== 'additionalProperties' ? valueAt(request[part], v.instancePath) : undefined;
    out.push({ field, rule, ...(value === undefined ? {} : { value }), message: `${field} ${words}${value === undefined ? '' : `, got ${JSON.stringify(value)}`}` });
  }
  return out;
}
