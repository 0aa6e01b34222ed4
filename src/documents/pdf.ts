import { createRequire } from 'node:module';
import path from 'node:path';
import * as fontkit from 'fontkit';
import PDFDocument from 'pdfkit';

/**
 * The PDF toolkit of the customer's documents: an A4 page with pdfkit (no browser), text in
 * fonts shipped by npm packages, and a table that breaks across pages.
 *
 * Fonts: Noto Sans (`@embedpdf/fonts-latin`: Latin, Greek, Cyrillic, with tabular figures)
 * and Noto Sans Hans (`@embedpdf/fonts-sc`: Chinese, and the kana and kanji of Japanese
 * names), both under the SIL Open Font License. Each piece of text is set in the first of
 * them that has a glyph for every character, so "株式会社山田" and "深圳华为" print while
 * amounts keep the Latin font's figures. pdfkit embeds only the glyphs a document uses (a
 * subset), so a PDF stays small although the Chinese font file is 8 MB.
 */

const require = createRequire(import.meta.url);
const fontsOf = (pkg: string) => path.join(path.dirname(require.resolve(pkg)), '..', 'fonts');

const FONT_FILES = {
  latin: () => path.join(fontsOf('@embedpdf/fonts-latin'), 'NotoSans-Regular.ttf'),
  'latin-bold': () => path.join(fontsOf('@embedpdf/fonts-latin'), 'NotoSans-Bold.ttf'),
  cjk: () => path.join(fontsOf('@embedpdf/fonts-sc'), 'NotoSansHans-Regular.otf'),
  'cjk-bold': () => path.join(fontsOf('@embedpdf/fonts-sc'), 'NotoSansHans-Bold.otf'),
} as const;
type FontName = keyof typeof FONT_FILES;

// Parsed once per process: parsing is cheap, reading 8 MB per document is not.
const parsed = new Map<FontName, fontkit.Font>();
function font(name: FontName): fontkit.Font {
  let f = parsed.get(name);
  if (!f) {
    f = fontkit.openSync(FONT_FILES[name]()) as fontkit.Font;
    parsed.set(name, f);
  }
  return f;
}

/** The font that prints every character of `text` (the Latin one when both can, or neither). */
export function fontFor(text: string, bold = false): FontName {
  const latin: FontName = bold ? 'latin-bold' : 'latin';
  const cjk: FontName = bold ? 'cjk-bold' : 'cjk';
  let latinMisses = 0;
  let cjkMisses = 0;
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (cp <= 0x20) continue;
    if (!font(latin).hasGlyphForCodePoint(cp)) latinMisses++;
    if (latinMisses > 0 && !font(cjk).hasGlyphForCodePoint(cp)) cjkMisses++;
  }
  if (latinMisses === 0) return latin;
  return cjkMisses < latinMisses ? cjk : latin;
}

export const PAGE = { width: 595.28, height: 841.89, margin: 48 } as const;
export const INK = '#1b1b1b';
export const MUTED = '#5c5c5c';
export const RULE = '#c8c8c8';

export interface Pdf {
  doc: PDFKit.PDFDocument;
  /** Writes `text` at (x, y) in the font that prints it; returns the height used. */
  write(text: string, x: number, y: number, options?: WriteOptions): number;
  /** Height `text` takes at `width`. */
  heightOf(text: string, width: number, options?: WriteOptions): number;
  /** Ends the document, numbers its pages, and returns its bytes. */
  finish(footer: string): Promise<Buffer>;
}

export interface WriteOptions {
  size?: number;
  bold?: boolean;
  color?: string;
  width?: number;
  align?: 'left' | 'right' | 'center';
  /** One line only, cut with an ellipsis when too long (amounts and dates never wrap). */
  oneLine?: boolean;
}

/** A new A4 document; `createdAt` comes from the core's clock so a document is reproducible. */
export function newPdf(info: { title: string; author: string; subject?: string; createdAt: Date }): Pdf {
  const doc = new PDFDocument({ size: 'A4', margin: PAGE.margin, bufferPages: true, info: { Title: info.title, Author: info.author, Subject: info.subject, Creator: 'cashloop', CreationDate: info.createdAt, ModDate: info.createdAt }, lang: 'en' });
  for (const name of Object.keys(FONT_FILES) as FontName[]) doc.registerFont(name, font(name) as unknown as PDFKit.Mixins.PDFFontSource);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const setFont = (text: string, o: WriteOptions) => doc.font(fontFor(text, o.bold)).fontSize(o.size ?? 9.5);
  const textOptions = (o: WriteOptions): PDFKit.Mixins.TextOptions => ({
    width: o.width,
    align: o.align ?? 'left',
    // One line: wrapped text is cut at the first line's height, with an ellipsis.
    ...(o.oneLine ? { ellipsis: true, height: (o.size ?? 9.5) * 1.3 } : {}),
    // Tabular figures: digits of equal width line up in columns.
    features: ['tnum'],
  });
  return {
    doc,
    write(text, x, y, o = {}) {
      setFont(text, o).fillColor(o.color ?? INK);
      const h = doc.heightOfString(text || ' ', textOptions(o));
      doc.text(text, x, y, textOptions(o));
      return o.oneLine ? Math.min(h, (o.size ?? 9.5) * 1.4) : h;
    },
    heightOf(text, width, o = {}) {
      setFont(text, o);
      return doc.heightOfString(text || ' ', { ...textOptions(o), width });
    },
    async finish(footer) {
      const range = doc.bufferedPageRange();
      for (let i = range.start; i < range.start + range.count; i++) {
        doc.switchToPage(i);
        // The footer sits in the bottom margin: no automatic page break there.
        const bottom = doc.page.margins.bottom;
        doc.page.margins.bottom = 0;
        const y = PAGE.height - PAGE.margin + 14;
        const line = `${footer} · page ${i - range.start + 1} of ${range.count}`;
        doc.font(fontFor(line)).fontSize(7.5).fillColor(MUTED).text(line, PAGE.margin, y, { width: PAGE.width - 2 * PAGE.margin, align: 'center', lineBreak: false });
        doc.page.margins.bottom = bottom;
      }
      doc.end();
      return ended;
    },
  };
}

export interface Column<R> {
  header: string;
  width: number;
  align?: 'left' | 'right';
  /** Amounts and dates stay on one line; text columns wrap. */
  oneLine?: boolean;
  value(row: R): string;
  bold?(row: R): boolean;
}

/**
 * Draws a table from `y` down, starting a new page (with the header again) when a row does
 * not fit; returns the y below it.
 */
export function table<R>(pdf: Pdf, columns: Column<R>[], rows: R[], y: number, options: { size?: number } = {}): number {
  const size = options.size ?? 8.5;
  const pad = 3;
  const x0 = PAGE.margin;
  const right = x0 + columns.reduce((s, c) => s + c.width, 0);
  const bottom = PAGE.height - PAGE.margin - 8;
  const header = (top: number) => {
    let x = x0;
    let h = 0;
    for (const c of columns) {
      h = Math.max(h, pdf.write(c.header, x + pad, top, { size: size - 0.5, bold: true, color: MUTED, width: c.width - 2 * pad, align: c.align, oneLine: true }));
      x += c.width;
    }
    pdf.doc.moveTo(x0, top + h + 2).lineTo(right, top + h + 2).lineWidth(0.7).strokeColor(RULE).stroke();
    return top + h + 5;
  };
  y = header(y);
  for (const row of rows) {
    const heights = columns.map((c) => (c.oneLine ? size * 1.4 : pdf.heightOf(c.value(row), c.width - 2 * pad, { size, bold: c.bold?.(row) })));
    const h = Math.max(...heights);
    if (y + h > bottom) {
      pdf.doc.addPage();
      y = header(PAGE.margin);
    }
    let x = x0;
    for (const c of columns) {
      pdf.write(c.value(row), x + pad, y, { size, bold: c.bold?.(row), width: c.width - 2 * pad, align: c.align, oneLine: c.oneLine });
      x += c.width;
    }
    y += h + 3;
    pdf.doc.moveTo(x0, y - 1.5).lineTo(right, y - 1.5).lineWidth(0.3).strokeColor(RULE).stroke();
  }
  return y + 2;
}

/** Starts a new page when fewer than `needed` points are left below `y`; returns where to go on. */
export function ensureRoom(pdf: Pdf, y: number, needed: number): number {
  if (y + needed <= PAGE.height - PAGE.margin - 8) return y;
  pdf.doc.addPage();
  return PAGE.margin;
}
