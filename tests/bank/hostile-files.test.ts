import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents } from '../helpers/fixtures.ts';
import { cli, cliEnv } from '../helpers/cli.ts';
import { importBankStatement, listBankEntries } from '../../src/bank/bank.service.ts';
import { parseCamt053 } from '../../src/bank/camt053.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/bank');
const good = fs.readFileSync(path.join(fixtures, 'camt053-2026-03-02.xml'), 'utf8');
const CAMT_NS = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08';

/** The DomainError a read refuses `xml` with (fails the test when it is accepted). */
function refusal(xml: string, file = 'hostile.xml'): DomainError {
  try {
    parseCamt053(xml, file);
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error(`${file} was accepted`);
}

/** Ten levels of ten: a billion "lol"s once expanded. */
const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY lol "lol">
${Array.from({ length: 9 }, (_, i) => `  <!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('\n')}
]>
<Document xmlns="${CAMT_NS}"><BkToCstmrStmt><Stmt><Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>
`;

describe(`hostile bank files are refused as invalid input (${testDialect})`, () => {
  let t: TestCore;
  let env: Record<string, string>;
  beforeEach(async () => {
    t = await createTestCore('2026-03-05T09:00:00Z');
    env = cliEnv(t.url, t.dataDir, '2026-03-05T09:00:00Z');
  });
  afterEach(async () => t.cleanup());

  const write = (name: string, text: string) => {
    const file = path.join(t.dataDir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('reads the namespace from the parsed root element, so a comment cannot fake it', async () => {
    // The real root is in urn:evil; only a comment before it names the camt.053 namespace.
    const faked = good.replace(`<Document xmlns="${CAMT_NS}"`, `<!-- <Document xmlns="${CAMT_NS}"> --><Document xmlns="urn:evil"`);
    expect(faked).toContain('xmlns="urn:evil"');
    expect(refusal(faked).detail).toMatchObject({ rule: 'camt053_root', value: 'urn:evil' });
    const r = await cli(['bank', 'import', write('faked.xml', faked)], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/faked\.xml is not a camt\.053 statement .*found Document in urn:evil/);

    // A prefixed root is judged by its own prefix's namespace, not by a default one beside it.
    const prefixed = good.replace(`<Document xmlns="${CAMT_NS}"`, `<camt:Document xmlns:camt="${CAMT_NS}"`).replace('</Document>', '</camt:Document>');
    expect(parseCamt053(prefixed)).toHaveLength(7);
    const wrongPrefix = good.replace(`<Document xmlns="${CAMT_NS}"`, `<camt:Document xmlns="${CAMT_NS}" xmlns:camt="urn:evil"`).replace('</Document>', '</camt:Document>');
    expect(refusal(wrongPrefix).detail).toMatchObject({ rule: 'camt053_root', value: 'urn:evil' });
    // A comment that only mentions a DOCTYPE is a comment.
    expect(parseCamt053(good.replace('<Document', '<!-- <!DOCTYPE x> --><Document'))).toHaveLength(7);
  });

  it('refuses DOCTYPE and entity declarations (billion laughs, external entities) with exit 2, writing nothing', async () => {
    const before = await countEvents(t.core);
    const bomb = refusal(billionLaughs, 'bomb.xml');
    expect(bomb.detail.rule).toBe('xml_no_doctype');
    expect(bomb.message).toMatch(/^bomb\.xml holds a DOCTYPE or entity declaration \(line 2\)/);
    const r = await cli(['bank', 'import', write('bomb.xml', billionLaughs)], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bomb\.xml holds a DOCTYPE or entity declaration/);

    const external = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Document xmlns="${CAMT_NS}"><BkToCstmrStmt><Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>`;
    expect(refusal(external).detail.rule).toBe('xml_no_doctype');
    // A declaration inside the root is refused too (the parser would expand it there).
    const inner = `<?xml version="1.0"?><Document xmlns="${CAMT_NS}"><!DOCTYPE a [<!ENTITY a "AAAA">]><BkToCstmrStmt><Stmt><Id>&a;</Id></Stmt></BkToCstmrStmt></Document>`;
    expect(refusal(inner).detail.rule).toBe('xml_no_doctype');
    await expect(importBankStatement(t.core, { file: write('xxe.xml', external), actor })).rejects.toMatchObject({ kind: 'invalid', detail: { rule: 'xml_no_doctype' } });
    expect(await countEvents(t.core)).toBe(before);
    expect(await listBankEntries(t.core)).toEqual([]);
  });

  it('turns every parser failure into invalid input naming the file', () => {
    const deep = `<?xml version="1.0"?>${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}`;
    expect(refusal(deep, 'deep.xml')).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/^deep\.xml could not be read as XML: /), detail: { rule: 'xml_well_formed' } });
    const proto = `<?xml version="1.0"?><Document xmlns="${CAMT_NS}"><__proto__><x>1</x></__proto__></Document>`;
    expect(refusal(proto, 'proto.xml')).toMatchObject({ kind: 'invalid', detail: { rule: 'xml_well_formed' } });
    expect(refusal(`${good}${good.slice(good.indexOf('<Document'))}`, 'two.xml').detail.rule).toBe('xml_well_formed');
  });

  it('refuses a file above bank.max_file_mb before reading it, camt.053 and CSV alike', async () => {
    // Sparse files: the size is there, the bytes are zeros and never read.
    const big = path.join(t.dataDir, 'big.xml');
    fs.writeFileSync(big, '<?xml version="1.0"?>');
    fs.truncateSync(big, 20 * 1024 * 1024 + 1);
    const r = await cli(['bank', 'import', big], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('big.xml is 20.0 MB (20971521 bytes), above the limit of 20 MB for bank statement files (setting bank.max_file_mb)');

    const csv = path.join(t.dataDir, 'big.csv');
    fs.writeFileSync(csv, 'entry_ref,booking_date,amount\n');
    fs.truncateSync(csv, 3 * 1024 * 1024);
    await setSetting(t.core, 'bank.max_file_mb', '2', actor);
    await expect(importBankStatement(t.core, { file: csv, actor })).rejects.toMatchObject({ kind: 'invalid', message: 'big.csv is 3.0 MB (3145728 bytes), above the limit of 2 MB for bank statement files (setting bank.max_file_mb)', detail: { field: 'file', value: 3145728, rule: 'max_file_size' } });
    // Within the cap the same file is read (and refused for its content, not its size).
    await setSetting(t.core, 'bank.max_file_mb', '3', actor);
    await expect(importBankStatement(t.core, { file: csv, actor })).rejects.not.toMatchObject({ detail: { rule: 'max_file_size' } });
    await expect(setSetting(t.core, 'bank.max_file_mb', '0', actor)).rejects.toMatchObject({ kind: 'invalid', detail: { field: 'bank.max_file_mb', rule: 'integer_range' } });
    expect(await listBankEntries(t.core)).toEqual([]);
  });
});
