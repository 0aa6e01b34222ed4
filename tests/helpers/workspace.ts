import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Core } from '../../src/core.ts';
import { createApiKey } from '../../src/api/keys.service.ts';
import { importBankStatement } from '../../src/bank/bank.service.ts';
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
  await importBankStatement(core, { file, mapping: MAPPING, actor: 'test' });
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

/** A day's bank statement in ISO 20022 camt.053 with credits from a payer nobody knows and no invoice named: what waits for a match. */
export function camtStatement(id: string, credits: { ref: string; amount: string; date: string }[]): string {
  const entry = (c: { ref: string; amount: string; date: string }) => `      <Ntry>
        <NtryRef>${c.ref}</NtryRef>
        <Amt Ccy="EUR">${c.amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>${c.date}</Dt></BookgDt>
        <AcctSvcrRef>${id}-${c.ref}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Amt Ccy="EUR">${c.amount}</Amt>
          <CdtDbtInd>CRDT</CdtDbtInd>
          <RltdPties><Dbtr><Pty><Nm>Unbekannt GmbH</Nm></Pty></Dbtr></RltdPties>
          <RmtInf><Ustrd>Zahlung</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>${id}</MsgId><CreDtTm>${credits[0]!.date}T18:30:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>${id}</Id>
      <CreDtTm>${credits[0]!.date}T18:30:00+01:00</CreDtTm>
      <Acct><Id><IBAN>DE44500105175407324931</IBAN></Id><Ccy>EUR</Ccy></Acct>
${credits.map(entry).join('\n')}
    </Stmt>
  </BkToCstmrStmt>
</Document>
`;
}

/** A multipart form as a browser sends it: text fields and one file. */
export function multipart(fields: Record<string, string>, file?: { field: string; filename: string; content: string }): { payload: string; contentType: string } {
  const boundary = '----cashloop-test-boundary';
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  if (file) parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: application/xml\r\n\r\n${file.content}\r\n`);
  return { payload: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}
