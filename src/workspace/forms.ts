import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../shared/errors.ts';

/**
 * Forms of the workspace: how a posted form is read, and how the core's refusal comes back
 * to the page. The page passes what the user typed to the service as it is; the service
 * validates it and throws a DomainError naming the field and the rule, which the page shows
 * beside that field. The page checks nothing itself, so the rule has one home.
 */

/** A posted form: every field as text; a field sent more than once (order lines) as a list. */
export type FormBody = Record<string, string | string[]>;

/** Registers the form parser on the workspace's routes (repeated names kept, unlike `acceptForms`). */
export function acceptWorkspaceForms(scope: FastifyInstance): void {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    const out: FormBody = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const had = out[k];
      out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    done(null, out);
  });
}

/** Reads a posted form (or a query string) by field name. */
export class Form {
  constructor(readonly body: FormBody) {}

  static of(req: FastifyRequest): Form {
    const b = req.body;
    return new Form(b && typeof b === 'object' && !Array.isArray(b) ? (b as FormBody) : {});
  }

  static query(req: FastifyRequest): Form {
    return new Form((req.query ?? {}) as FormBody);
  }

  /** The field's text (the last one when sent twice), trimmed; '' when absent. */
  text(name: string): string {
    const v = this.body[name];
    const one = Array.isArray(v) ? v.at(-1) : v;
    return typeof one === 'string' ? one.trim() : '';
  }

  /** The field's text, or undefined when empty: an optional input left blank is not sent to the service. */
  optional(name: string): string | undefined {
    const v = this.text(name);
    return v === '' ? undefined : v;
  }

  /** Every value of a repeated field, in order. */
  all(name: string): string[] {
    const v = this.body[name];
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => String(x).trim());
  }
}

/** The core's refusal, ready to show: the message, the rule, and the fields it names. */
export class FormError {
  constructor(
    readonly message: string,
    readonly rule: string | undefined,
    readonly fields: string[],
    private readonly byField: Map<string, string>,
  ) {}

  static from(error: DomainError): FormError {
    const byField = new Map<string, string>();
    const all = [{ ...error.detail, message: error.message }, ...error.problems];
    for (const p of all) if (p.field && !byField.has(p.field)) byField.set(p.field, `${p.message}${p.rule ? ` (rule: ${p.rule})` : ''}`);
    return new FormError(error.message, error.detail.rule, [...byField.keys()], byField);
  }

  fieldMessage(name: string): string {
    return this.byField.get(name) ?? this.message;
  }
}

/**
 * Runs a service call for a form: its result, or the DomainError it refused with as a
 * FormError for the page to show. Anything else is a fault and goes on to the error handler.
 */
export async function attempt<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: FormError }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (error instanceof DomainError) return { ok: false, error: FormError.from(error) };
    throw error;
  }
}
