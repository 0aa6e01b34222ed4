import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { invalid, DomainError } from '../shared/errors.ts';
import { isBusinessDate } from '../shared/dates.ts';
import { parseAmount } from '../shared/money.ts';
import { normaliseIban, type EntryProblem, type BankStatementEntry } from './bank-statement.ts';

/**
 * Reads an ISO 20022 bank-to-customer statement (camt.053, versions .001.02 to .001.13; the
 * fixtures are written against .001.08). Only booked entries (`Sts` BOOK) are returned; an
 * entry with several `TxDtls` (a batch) gives one entry per transaction, its reference
 * suffixed `/1`, `/2` … Values stay strings until parsed here: amounts never pass through
 * a float.
 */
const ARRAYS = new Set(['Stmt', 'Ntry', 'NtryDtls', 'TxDtls', 'Ustrd', 'Strd', 'CdtrRefInf', 'Bal', 'AddtlInf']);

type Node = Record<string, unknown>;

const text = (v: unknown): string | null => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v.trim() || null;
  if (typeof v === 'object' && '#text' in (v as Node)) return String((v as Node)['#text']).trim() || null;
  return null;
};
const node = (v: unknown): Node => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Node) : {});
const list = (v: unknown): Node[] => (Array.isArray(v) ? v.map(node) : v === undefined ? [] : [node(v)]);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(text).filter((x): x is string => x !== null);
/** Follows a path of element names: `at(ntry, 'BookgDt', 'Dt')`. */
const at = (n: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, key) => (Array.isArray(cur) ? node(cur[0])[key] : node(cur)[key]), n);
const dateOf = (n: unknown): string | null => {
  const d = text(at(n, 'Dt')) ?? text(at(n, 'DtTm'))?.slice(0, 10) ?? null;
  return d;
};

/**
 * A markup declaration other than a comment or CDATA (`<!DOCTYPE`, `<!ENTITY`, `<!ELEMENT` …),
 * found by one pass that steps over comments, CDATA sections and processing instructions, so
 * a comment that merely mentions a DOCTYPE passes. camt.053 never carries one; refusing them
 * all shuts out entity expansion (billion laughs) and external entities before parsing.
 */
function markupDeclaration(xml: string): number | null {
  const scan = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!/g;
  for (let m = scan.exec(xml); m; m = scan.exec(xml)) if (m[0] === '<!') return m.index;
  return null;
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

/** The camt.053 namespaces this reader knows: `urn:iso:std:iso:20022:tech:xsd:camt.053.001.02` to `.13`. */
const CAMT053_NS = /^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d\d$/;

export function parseCamt053(xml: string, file = 'statement'): BankStatementEntry[] {
  let valid: ReturnType<typeof XMLValidator.validate>;
  try {
    valid = XMLValidator.validate(xml);
  } catch (e) {
    throw invalid(`${file} could not be read as XML: ${(e as Error).message}`, { field: 'file', value: file, rule: 'xml_well_formed' });
  }
  if (valid !== true) {
    throw invalid(`${file} is not well-formed XML: line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`, { field: 'file', value: file, rule: 'xml_well_formed' });
  }
  const declaration = markupDeclaration(xml);
  if (declaration !== null) {
    throw invalid(`${file} holds a DOCTYPE or entity declaration (line ${lineOf(xml, declaration)}): bank statements are refused with one, as they could expand entities or read other files`, { field: 'file', value: file, rule: 'xml_no_doctype' });
  }
  // Prefixes are stripped from element names (documents write `Document` or `camt:Document`)
  // but attributes keep theirs, so the root's own xmlns declarations stay readable; the first
  // element name the parser reports is the root's, with its prefix.
  const seen = { root: '' };
  const parser = new XMLParser({
    ignoreAttributes: false, attributeNamePrefix: '@_', removeNSPrefix: false, parseTagValue: false, parseAttributeValue: false, trimValues: true, isArray: (name) => ARRAYS.has(name),
    transformTagName: (name) => {
      if (!seen.root) seen.root = name;
      return name.slice(name.indexOf(':') + 1);
    },
  });
  let doc: Node;
  try {
    doc = node(parser.parse(xml));
  } catch (e) {
    throw invalid(`${file} could not be read as XML: ${(e as Error).message}`, { field: 'file', value: file, rule: 'xml_well_formed' });
  }
  const elements = Object.keys(doc).filter((k) => !k.startsWith('?'));
  const root = node(doc.Document);
  const colon = seen.root.indexOf(':');
  const ns = String(root[colon > 0 ? `@_xmlns:${seen.root.slice(0, colon)}` : '@_xmlns'] ?? '');
  const statementRoot = root.BkToCstmrStmt;
  if (elements.length !== 1 || elements[0] !== 'Document' || Array.isArray(doc.Document) || !statementRoot || !CAMT053_NS.test(ns)) {
    throw invalid(`${file} is not a camt.053 statement (one root Document/BkToCstmrStmt in namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.xx; found ${seen.root || 'no root element'} in ${ns || 'no namespace'})`, { field: 'Document', value: ns, rule: 'camt053_root' });
  }
  const problems: EntryProblem[] = [];
  const entries: BankStatementEntry[] = [];
  const statements = list(node(statementRoot).Stmt);
  if (statements.length === 0) throw invalid(`${file} holds no Stmt`, { field: 'Stmt', rule: 'required' });
  statements.forEach((stmt, si) => {
    const statementId = text(stmt.Id);
    const stmtWhere = `statement ${si + 1}`;
    if (!statementId) {
      problems.push({ where: stmtWhere, field: 'Stmt/Id', value: '', rule: 'required', message: `${stmtWhere}: Stmt/Id is required` });
      return;
    }
    const accountIban = normaliseIban(text(at(stmt, 'Acct', 'Id', 'IBAN')));
    list(stmt.Ntry).forEach((ntry, ni) => {
      const status = text(at(ntry, 'Sts', 'Cd')) ?? text(ntry.Sts);
      if (status && status !== 'BOOK') return;
      const ref = text(ntry.NtryRef) ?? text(ntry.AcctSvcrRef) ?? String(ni + 1);
      const where = `${stmtWhere} (${statementId}) entry ${ni + 1} (${ref})`;
      const bad = (field: string, value: string, rule: string, message: string) => problems.push({ where, field, value, rule, message: `${where}: ${message}` });
      const indicator = text(ntry.CdtDbtInd);
      if (indicator !== 'CRDT' && indicator !== 'DBIT') bad('CdtDbtInd', indicator ?? '', 'one_of', `CdtDbtInd must be CRDT or DBIT, got ${JSON.stringify(indicator ?? '')}`);
      // RvslInd true on a DBIT entry: a credit booked earlier is taken back (ISO: the original
      // was a credit). Money moves as CdtDbtInd says; the flag only marks it as a return.
      const reversal = text(ntry.RvslInd) === 'true';
      const bookingDate = dateOf(ntry.BookgDt);
      if (!bookingDate || !isBusinessDate(bookingDate)) bad('BookgDt', bookingDate ?? '', 'date_format', `BookgDt/Dt must be a date YYYY-MM-DD, got ${JSON.stringify(bookingDate ?? '')}`);
      const valueDate = dateOf(ntry.ValDt);
      const txs = list(at(ntry, 'NtryDtls', 'TxDtls'));
      const parts = txs.length > 1 ? txs : [txs[0] ?? {}];
      parts.forEach((tx, ti) => {
        const amtNode = parts.length > 1 ? (tx.Amt ?? at(tx, 'AmtDtls', 'TxAmt', 'Amt')) : ntry.Amt;
        const amountText = text(amtNode);
        const currency = String(node(amtNode)['@_Ccy'] ?? '');
        let amountMinor = 0;
        if (!/^[A-Z]{3}$/.test(currency)) bad('Amt/@Ccy', currency, 'currency_code', `Amt needs a Ccy attribute with an ISO 4217 code, got ${JSON.stringify(currency)}`);
        else {
          try {
            amountMinor = parseAmount(amountText ?? '', currency, 'Amt');
            if (amountMinor <= 0) bad('Amt', amountText ?? '', 'amount_positive', `Amt must be above zero (the direction is CdtDbtInd), got ${amountText}`);
          } catch (e) {
            bad('Amt', amountText ?? '', (e as DomainError).detail?.rule ?? 'amount_format', `Amt ${JSON.stringify(amountText ?? '')} is not an amount in ${currency}`);
          }
        }
        const strd = list(at(tx, 'RmtInf', 'Strd'));
        const structuredRefs = strd.flatMap((s) => list(s.CdtrRefInf).map((c) => text(c.Ref))).filter((r): r is string => r !== null);
        const unstructured = strings(at(tx, 'RmtInf', 'Ustrd'));
        // camt.053.001.08 puts the party under Pty; .02 had it directly under Dbtr.
        const payerName = text(at(tx, 'RltdPties', 'Dbtr', 'Pty', 'Nm')) ?? text(at(tx, 'RltdPties', 'Dbtr', 'Nm'));
        const payerIban = normaliseIban(text(at(tx, 'RltdPties', 'DbtrAcct', 'Id', 'IBAN')));
        const reasonCode = text(at(tx, 'RtrInf', 'Rsn', 'Cd')) ?? text(at(tx, 'RtrInf', 'Rsn', 'Prtry'));
        const reasonText = strings(at(tx, 'RtrInf', 'AddtlInf')).join(' ');
        const familyReturn = /^(RDDT|RCDT|ICDT)$/.test(text(at(ntry, 'BkTxCd', 'Domn', 'Fmly', 'Cd')) ?? '') && /^(UPDD|RRTN|ARET|URDD)$/.test(text(at(ntry, 'BkTxCd', 'Domn', 'Fmly', 'SubFmlyCd')) ?? '');
        const returnReason = reasonCode ? `${reasonCode}${reasonText ? ` ${reasonText}` : ''}` : reversal ? 'reversal' : familyReturn ? 'returned' : null;
        const direction = indicator === 'DBIT' ? 'debit' : 'credit';
        entries.push({
          statementId,
          entryRef: parts.length > 1 ? `${ref}/${ti + 1}` : ref,
          accountIban,
          direction,
          amountMinor,
          currency,
          bookingDate: bookingDate ?? '',
          valueDate: valueDate && isBusinessDate(valueDate) ? valueDate : null,
          payerName,
          payerIban,
          structuredRefs,
          unstructured,
          endToEndId: text(at(tx, 'Refs', 'EndToEndId')) === 'NOTPROVIDED' ? null : text(at(tx, 'Refs', 'EndToEndId')),
          returnReason,
          where: parts.length > 1 ? `${where} transaction ${ti + 1}` : where,
        });
      });
    });
  });
  if (problems.length) {
    throw new DomainError('invalid', `${file}: ${problems.length} problem${problems.length > 1 ? 's' : ''} in the statement; nothing was written`, { field: problems[0]!.field, value: problems[0]!.value, rule: problems[0]!.rule }, problems.map((p) => ({ entity: 'bank_entry', id: p.where, field: p.field, value: p.value, rule: p.rule, message: p.message })));
  }
  return entries;
}
