import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ValidateFunction } from 'ajv';
import { invalid } from '../shared/errors.ts';
import { textProblem } from '../shared/validate.ts';
import { sendProblem } from './problem.ts';

/**
 * What the API checks on every request before any route sees it, so that no input — a
 * field without a check of its own included — reaches the database in a form it cannot
 * take, and none answers 500:
 * - percent escapes in the path and the query must decode (`/reports/%25`, `?x=%ZZ`);
 * - every string of the body, the query, the path and the headers (names too) follows the text rule
 *   (`textProblem`): no U+0000, which PostgreSQL cannot store, nor other control characters
 *   but TAB, LF and CR (which a service refuses in turn where its field is one line);
 * - numbers converted from the query or the path must be finite (`?limit=1e400`).
 */

/**
 * Fastify's answer to a path it cannot route: escapes that do not decode (`%E0%A4%A`), or a
 * path parameter longer than the router takes. Given as the `frameworkErrors` option.
 */
export function frameworkError(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendProblem(reply, 414, 'a value in the path is longer than the API takes', { rule: 'path_length' });
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    void sendProblem(reply, 400, 'the path holds a percent escape that does not decode to UTF-8 text', { rule: 'url_encoding' });
    return;
  }
  void sendProblem(reply, 400, 'the request could not be routed', { rule: 'route' });
}

const decodes = (text: string): boolean => {
  try {
    decodeURIComponent(text.replaceAll('+', ' '));
    return true;
  } catch {
    return false;
  }
};

/**
 * onRequest hook: the query string's names and values must decode. Fastify's parser keeps a
 * broken escape as it is, which would turn `%ZZ` into a value nobody sent.
 */
export async function checkQueryEncoding(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const at = req.url.indexOf('?');
  if (at < 0) return;
  for (const part of req.url.slice(at + 1).split('&')) {
    if (decodes(part)) continue;
    const name = part.split('=')[0] ?? '';
    const field = decodes(name) ? `querystring.${decodeURIComponent(name.replaceAll('+', ' '))}` : 'querystring';
    await sendProblem(reply, 400, `${field} holds a percent escape that does not decode to UTF-8 text`, { field, rule: 'url_encoding' });
    return;
  }
}

/** How deep a request body may nest: ours go three levels down; 32 leaves room and bounds the work. */
export const MAX_BODY_DEPTH = 32;

/**
 * preValidation hook: every string in the body, query, path parameters and headers — names
 * and values, at any depth — follows the text rule, and the body nests at most MAX_BODY_DEPTH
 * levels (deeper, and printing it back in an error would overflow the stack). Walks with
 * a stack of its own, not recursion.
 */
export async function checkRequestText(req: FastifyRequest): Promise<void> {
  const parts: [string, unknown][] = [
    ['body', req.body],
    ['querystring', req.query],
    ['params', req.params],
    // A socket's HTTP parser refuses control characters in headers, but not every caller
    // comes through one (an in-process inject, a proxy); Idempotency-Key reaches SQL.
    ['headers', req.headers],
  ];
  for (const [root, value] of parts) {
    // Path parameters are ids, numbers and codes: one line. Elsewhere a service that knows
    // its field refuses a line break where one does not belong.
    const multiline = root !== 'params';
    const stack: [string, unknown, number][] = [[root, value, 0]];
    while (stack.length > 0) {
      const [field, v, depth] = stack.pop()!;
      if (typeof v === 'string') {
        const problem = textProblem(v, multiline);
        if (problem) throw invalid(`${field} ${problem.message}`, { field, value: v, rule: problem.rule });
        continue;
      }
      if (v === null || typeof v !== 'object') continue;
      if (depth >= MAX_BODY_DEPTH) throw invalid(`${field} nests deeper than ${MAX_BODY_DEPTH} levels`, { field, rule: 'depth' });
      if (Array.isArray(v)) {
        v.forEach((item, i) => stack.push([`${field}.${i}`, item, depth + 1]));
        continue;
      }
      for (const [key, item] of Object.entries(v)) {
        const problem = textProblem(key, false);
        if (problem) throw invalid(`a field name in ${field} ${problem.message}`, { field, value: key, rule: problem.rule });
        stack.push([`${field}.${key}`, item, depth + 1]);
      }
    }
  }
}

/**
 * Wraps a query/path validator that converts text to numbers: Ajv turns `"1e400"` into
 * Infinity and lets it pass `maximum`, so a converted number that is not finite is refused
 * here as the wrong type, like any other value that is not a number.
 */
export function finiteNumbers(validate: ValidateFunction): ValidateFunction {
  const wrapped = ((data: unknown, context?: Parameters<ValidateFunction>[1]) => {
    const ok = validate(data, context);
    wrapped.errors = validate.errors;
    if (!ok || data === null || typeof data !== 'object') return ok;
    for (const [key, v] of Object.entries(data)) {
      for (const n of Array.isArray(v) ? v : [v]) {
        if (typeof n === 'number' && !Number.isFinite(n)) {
          wrapped.errors = [{ instancePath: `/${key}`, schemaPath: '#', keyword: 'type', params: {}, message: 'must be a finite number' }];
          return false;
        }
      }
    }
    return true;
  }) as ValidateFunction;
  // Fastify hands Ajv the request as parent only when the validator says it is Ajv's.
  wrapped.schema = validate.schema;
  wrapped.schemaEnv = validate.schemaEnv;
  return wrapped;
}
