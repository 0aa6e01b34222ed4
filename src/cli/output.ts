import { DomainError, exitCode } from '../shared/errors.ts';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { facing, pageOf, type ListPage } from '../shared/facing.ts';

/** Options every command accepts. */
export interface OutputOptions {
  json?: boolean;
}

/** Prints a result as JSON (`--json`) or as the human text `render` makes of it. */
export function emit<T>(result: T, options: OutputOptions, render: (r: T) => string): void {
  if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${render(result)}\n`);
}

/**
 * Prints a document of the core as the API answers it: with `--json`, through the API's own
 * serialiser (`facing`: camelCase fields, each `…Minor` amount beside its written twin) and, for
 * a list, in the API's list shape `{ items, next }`; else the human text `render` makes of it.
 */
export function emitDocument<T>(result: T, options: OutputOptions, render: (r: T) => string): void {
  if (options.json) process.stdout.write(`${JSON.stringify(facing(result), null, 2)}\n`);
  else process.stdout.write(`${render(result)}\n`);
}

/**
 * `emitDocument` for a resource whose API route answers through a response schema that leaves
 * fields out: with `--json`, the document is written through the same schema (fields it does
 * not name are dropped, as the API's serialiser drops them), so the CLI prints what the API does.
 */
export function emitAnswer<T>(schema: TSchema, result: T, options: OutputOptions, render: (r: T) => string): void {
  if (options.json) process.stdout.write(`${JSON.stringify(Value.Clean(schema, facing(result)), null, 2)}\n`);
  else process.stdout.write(`${render(result)}\n`);
}

/** A whole list in the API's list shape: every item, no next page. */
export const everything = <T>(items: T[]): ListPage<T> => pageOf(items, { limit: items.length });

/** Lays rows out as an aligned text table. */
export function table(rows: Record<string, unknown>[], columns?: string[]): string {
  if (rows.length === 0) return '(none)';
  const cols = columns ?? Object.keys(rows[0]!);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}

/**
 * Turns a thrown error into the CLI's answer: the message on stderr (or a problem object
 * with `--json`) and the exit code of its kind. Unknown errors exit 1.
 */
export function reportError(error: unknown, json: boolean): number {
  if (error instanceof DomainError) {
    if (json) {
      process.stderr.write(
        `${JSON.stringify({ error: error.kind, message: error.message, ...error.detail, problems: error.problems }, null, 2)}\n`,
      );
    } else {
      process.stderr.write(`error: ${error.message}\n`);
      // A problem the message already says is not said again.
      for (const p of error.problems) if (!error.message.includes(p.message)) process.stderr.write(`  - ${p.message}\n`);
    }
    return exitCode(error.kind);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(json ? `${JSON.stringify({ error: 'internal', message })}\n` : `error: ${message}\n`);
  return 1;
}
