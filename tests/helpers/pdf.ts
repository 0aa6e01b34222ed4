import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

/**
 * The text of a PDF as a reader sees it, one string per printed line, through Mozilla's
 * pdf.js (the text layer is read from the fonts' ToUnicode maps, as a viewer's copy and
 * search do). Items on the same baseline are joined left to right with a space.
 */
export async function pdfLines(bytes: Uint8Array): Promise<string[]> {
  const doc = await getDocument({ data: new Uint8Array(bytes), useSystemFonts: false, disableFontFace: true, isEvalSupported: false, verbosity: 0 }).promise;
  const lines: string[] = [];
  try {
    for (let p = 1; p <= doc.numPages; p++) {
      const content = await (await doc.getPage(p)).getTextContent();
      const rows = new Map<number, { x: number; s: string }[]>();
      for (const item of content.items) {
        if (!('str' in item) || item.str.trim() === '') continue;
        const y = Math.round(item.transform[5] as number);
        const row = rows.get(y) ?? [];
        row.push({ x: item.transform[4] as number, s: item.str.trim() });
        rows.set(y, row);
      }
      for (const y of [...rows.keys()].sort((a, b) => b - a)) lines.push(rows.get(y)!.sort((a, b) => a.x - b.x).map((i) => i.s).join(' '));
    }
  } finally {
    await doc.destroy();
  }
  return lines;
}

/**
 * The fonts a PDF carries inside it: each font descriptor's name (`ABCDEF+NotoSansHans-Regular`,
 * the six letters marking a subset) and the stream holding the font program (`FontFile2`
 * TrueType, `FontFile3` CFF); a font without one is not embedded and would be the reader's.
 */
export function embeddedFonts(bytes: Uint8Array): { name: string; program: string | null }[] {
  const text = Buffer.from(bytes).toString('latin1');
  return [...text.matchAll(/\/Type \/FontDescriptor([\s\S]*?)>>/g)].map((m) => ({
    name: /\/FontName \/([^\s/]+)/.exec(m[1]!)?.[1] ?? '',
    program: /\/(FontFile[23]?) \d+ 0 R/.exec(m[1]!)?.[1] ?? null,
  }));
}
