import busboy from 'busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError, invalid } from '../shared/errors.ts';

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

/** A file sent with a form (a bank statement): its name as the user's computer gave it, and its bytes. */
export interface Upload {
  field: string;
  filename: string;
  data: Buffer;
  /** More bytes came than `maxBytes`: `data` holds the first maxBytes + 1 of them. */
  truncated: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Files sent with a multipart form, kept beside the body so the request guard never walks their bytes. */
    uploads?: Upload[];
  }
}

/**
 * Registers the multipart parser (busboy) on the workspace's routes: text fields go to the
 * body like any form's, files to `req.uploads`. At most one file, read up to `maxBytes()` + 1
 * bytes, so the service that takes the file refuses one too large by its own rule.
 */
export function acceptUploads(scope: FastifyInstance, maxBytes: () => Promise<number>): void {
  scope.addContentTypeParser('multipart/form-data', (req, payload, done) => {
    void (async () => {
      const limit = await maxBytes();
      const body: FormBody = {};
      const uploads: Upload[] = [];
      const parser = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 16 * 1024, fileSize: limit + 1 } });
      // A cut-off or malformed body errors the parser and the file's stream alike: answer once.
      let answered = false;
      const fail = (error: Error) => {
        if (answered) return;
        answered = true;
        done(invalid(`the form could not be read: ${error.message}`, { field: 'body', rule: 'multipart' }), undefined);
      };
      parser.on('field', (name, value) => {
        const had = body[name];
        body[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
      });
      parser.on('file', (field, stream, info) => {
        const chunks: Buffer[] = [];
        let truncated = false;
        stream.on('error', fail);
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('limit', () => (truncated = true));
        stream.on('end', () => uploads.push({ field, filename: info.filename ?? '', data: Buffer.concat(chunks), truncated }));
      });
      parser.on('error', fail);
      parser.on('close', () => {
        if (answered) return;
        answered = true;
        req.uploads = uploads;
        done(null, body);
      });
      payload.pipe(parser);
    })().catch((error: unknown) => done(invalid(`the form could not be read: ${(error as Error).message}`, { field: 'body', rule: 'multipart' }), undefined));
  });
}
