// Reading an Excel workbook (.xlsx) as an export: the first sheet, row by row, with exceljs's streaming
// reader, each cell as the text a CSV export of it would hold. `npm run import` (which sends the rows on as CSV)
// and the bulk endpoints (which map them like a CSV body) both read workbooks through here.
import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';

/** One non-empty row of the sheet: its cells as text and its row number as Excel shows it. */
export interface SheetRow {
  cells: string[];
  line: number;
}

/** A cell as the text a CSV export would hold: dates as local wall time (read in the policy time zone later), formulas by their result. */
export function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString().slice(0, 19).replace('T', ' '); // exceljs gives the wall time as UTC
  if (typeof v === 'object') {
    if ('result' in v) return cellText(v.result as ExcelJS.CellValue);
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    if ('text' in v) return String(v.text);
    if ('error' in v) return '';
  }
  return String(v);
}

/**
 * The first sheet of a workbook, streamed: every row that is not empty, the first of them being the header.
 * Cells formatted as dates arrive as dates (styles are read); a date kept as a plain number stays its Excel
 * serial, which the import map reads as one.
 */
export async function* xlsxRows(input: Readable | NodeJS.ReadableStream): AsyncGenerator<SheetRow> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input as never, { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit' });
  // exceljs parses a sheet as soon as it has the shared strings and the workbook's relations, and then reads
  // `model.sheets`, which exists only once xl/workbook.xml has been read: a zip that stores the sheet before
  // xl/workbook.xml (the zip's order is the writer's) made it throw. An empty model until then only leaves the
  // sheet's name unknown (seen in exceljs 4.4, lib/stream/xlsx/workbook-reader.js, _parseWorksheet).
  (reader as unknown as { model?: { sheets: unknown[] } }).model ??= { sheets: [] };
  for await (const sheet of reader) {
    for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
      const cells = (row.values as ExcelJS.CellValue[]).slice(1).map(cellText);
      // row.values is sparse: holes are cells nobody wrote
      for (let i = 0; i < cells.length; i++) if (cells[i] === undefined) cells[i] = '';
      if (cells.every((c) => c.trim() === '')) continue;
      yield { cells, line: row.number };
    }
    return; // the first sheet only
  }
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
