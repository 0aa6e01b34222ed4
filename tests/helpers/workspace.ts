import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Core } from '../../src/core.ts';
import { createApiKey } from '../../src/api/keys.service.ts';
import { importStatement } from '../../src/bank/bank.service.ts';
import type { Role } from '../../src/api/permissions.ts';

export const HTML = { accept: 'text/html,application/xhtml+xml' };
export const FORM = { ...HTML, 'content-type': 'application/x-www-form-urlencoded' };

export interface Browser {
  session: string;
  csrf: string;
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** Posts a form as a page of the workspace does: with the session cookie and, unless told otherwise, its CSRF token. */
  post(url: string, fields: Record<string, string | string[]>, options?: { csrf?: string | null }): Promise<LightMyRequestResponse>;
}

const cookieOf = (r: LightMyRequestResponse, name: string) => r.cookies.find((c) => c.name === name)?.value;

/** Signs a key of `role` in the way a browser does (a link with ?key=) and returns a client with its session. */
export async function signedIn(app: FastifyInstance, core: Core, role: Role, name: string = role): Promise<Browser> {
  const key = (await createApiKey(core, { role, name }, 'test')).key;
  const r = await app.inject({ method: 'GET', url: `/app?key=${key}`, headers: HTML });
  if (r.statusCode !== 303) throw new Error(`sign-in answered ${r.statusCode}: ${r.body}`);
  const session = cookieOf(r, 'cashloop_session')!;
  const csrf = cookieOf(r, 'cashloop_csrf')!;
  return {
    session,
    csrf,
    get: (url, headers = {}) => app.inject({ method: 'GET', url, headers: { ...HTML, ...headers }, cookies: { cashloop_session: session } }),
    post: (url, fields, options = {}) => {
      const body = new URLSearchParams();
      const token = options.csrf === undefined ? csrf : options.csrf;
      if (token !== null) body.append('_csrf', token);
      for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
      return app.inject({ method: 'POST', url, headers: FORM, cookies: { cashloop_session: session }, payload: body.toString() });
    },
  };
}

const MAPPING = path.join(import.meta.dirname, '../fixtures/bank/bank-export.mapping.json');

/** A bank statement (the CSV layout of tests/fixtures/bank) with credits nobody can match, imported through the bank service. */
export async function importUnmatchedCredits(core: Core, dir: string, credits: { amount: string; ref: string; date: string }[]): Promise<void> {
  const file = path.join(dir, `bank-${credits.map((c) => c.ref).join('-')}.csv`);
  const rows = credits.map((c) => `${c.date.split('-').reverse().join('.')};${c.date.split('-').reverse().join('.')};${c.amount.replace('.', ',')};EUR;Unbekannt GmbH;;Zahlung;${c.ref}`);
  fs.writeFileSync(file, ['Buchungstag;Valuta;Betrag;Waehrung;Auftraggeber;IBAN;Verwendungszweck;Buchungsreferenz', ...rows].join('\n') + '\n');
  await importStatement(core, { file, mapping: MAPPING, actor: 'test' });
}

/** The text of a page without its markup, for reading what a person sees. */
export const textOf = (body: string): string =>
  body
    .replace(/<script[\s\S]*?<\/script>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ');
