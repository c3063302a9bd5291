// npm run import -- --customers customers.xlsx --orders orders.csv [--url http://127.0.0.1:3000] [--token …]
//
// Streams CSV exports and Excel workbooks (the first sheet; read with exceljs's streaming reader) to a running tierbot through its public API (PUT /api/v1/customers, POST /api/v1/orders,
// content-type text/csv; the server maps the columns, config/import.yaml included), 10,000 rows a request,
// with a progress bar (rows, rows/s, ETA, rejects so far). Every rejected row goes to <file>.rejects.csv with
// its line in the file and the reasons. Memory stays flat in the file size; running it again is safe (orders
// are idempotent by orderId, customers are upserts).
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { stringify as stringifySync } from 'csv-stringify/sync';
import { csvLineCounter, csvRecordText } from '../app/import-map.ts';
import { xlsxRows } from '../app/import-xlsx.ts';

const ROWS_PER_REQUEST = 10_000;

export interface ImportOptions {
  url: string;
  token: string;
  /** progress output; default a bar on stderr when it is a terminal, else a line per request */
  progress?: (p: { file: string; rows: number; rejects: number; bytes: number; total: number; rowsPerSec: number }) => void;
}

export interface FileResult {
  file: string;
  rows: number;
  stored: number;
  rejects: number;
  rejectsFile: string | null;
}

interface Reject {
  index: number;
  errors: { path: string; message: string }[];
}

/** A record of the file as one CSV line (no line ending) and the line (or sheet row) it starts on. */
interface SourceRecord {
  text: string;
  line: number;
}

/** A CSV file: its header line, then its records as they are (quoted fields untouched). */
async function* csvRecords(input: NodeJS.ReadableStream): AsyncGenerator<SourceRecord | string> {
  const parser = input.pipe(parse({ bom: true, raw: true, skip_empty_lines: true, relax_column_count: true }));
  const lineOf = csvLineCounter();
  let header = true;
  for await (const { raw } of parser as AsyncIterable<{ raw: string }>) {
    if (header) {
      header = false;
      yield csvRecordText(raw);
      continue;
    }
    yield { text: csvRecordText(raw), line: lineOf(raw) };
  }
}

/** The first sheet of a workbook (src/app/import-xlsx.ts, the reader the bulk endpoints use too) as CSV records. */
async function* xlsxRecords(input: NodeJS.ReadableStream): AsyncGenerator<SourceRecord | string> {
  let header = true;
  for await (const { cells, line } of xlsxRows(input)) {
    const text = stringifySync([cells]).replace(/\n$/, '');
    if (header) {
      header = false;
      yield text;
    } else yield { text, line };
  }
}

/** One CSV or .xlsx file through one bulk endpoint. */
export async function importFile(kind: 'customers' | 'orders', file: string, o: ImportOptions): Promise<FileResult> {
  const total = statSync(file).size;
  const input = createReadStream(file);
  const records = /\.xlsx$/i.test(file) ? xlsxRecords(input) : csvRecords(input);
  let header: string | null = null;
  let batch: SourceRecord[] = [];
  const result: FileResult = { file, rows: 0, stored: 0, rejects: 0, rejectsFile: null };
  let rejectsOut: ReturnType<typeof stringify> | null = null;
  let rejectsDone: Promise<void> | null = null;
  const started = performance.now();

  const send = async () => {
    if (batch.length === 0) return;
    const body = `${header}\n${batch.map((b) => b.text).join('\n')}\n`;
    const res = await fetch(`${o.url}/api/v1/${kind}`, {
      method: kind === 'customers' ? 'PUT' : 'POST',
      headers: { authorization: `Bearer ${o.token}`, 'content-type': 'text/csv; charset=utf-8' },
      body,
    });
    const answer = (await res.json()) as { rejected?: Reject[]; upserted?: number; updated?: number; inserted?: number; duplicates?: number; error?: { message: string } };
    if (!res.ok) throw new Error(`${kind} import stopped at line ${batch[0].line} of ${file}: ${res.status} ${answer.error?.message ?? ''}`);
    result.rows += batch.length;
    result.stored += (answer.upserted ?? 0) + (answer.updated ?? 0) + (answer.inserted ?? 0) + (answer.duplicates ?? 0);
    for (const r of answer.rejected ?? []) {
      if (!rejectsOut) {
        result.rejectsFile = `${file}.rejects.csv`;
        rejectsOut = stringify({ header: true, columns: ['line', 'reasons', 'row'] });
        const sink = rejectsOut.pipe(createWriteStream(result.rejectsFile));
        rejectsDone = new Promise((resolve, reject) => sink.on('close', resolve).on('error', reject));
      }
      const row = batch[r.index];
      rejectsOut.write([row.line, r.errors.map((e) => `${e.path}: ${e.message}`).join('; '), row.text]);
      result.rejects++;
    }
    batch = [];
    const seconds = (performance.now() - started) / 1000;
    o.progress?.({ file, rows: result.rows, rejects: result.rejects, bytes: input.bytesRead, total, rowsPerSec: seconds > 0 ? result.rows / seconds : 0 });
  };

  for await (const record of records) {
    if (typeof record === 'string') header = record;
    else {
      batch.push(record);
      if (batch.length >= ROWS_PER_REQUEST) await send();
    }
  }
  await send();
  // the rejects file is complete once its stream has closed, not when the last row was handed over
  (rejectsOut as ReturnType<typeof stringify> | null)?.end();
  await rejectsDone;
  return result;
}

function bar(): NonNullable<ImportOptions['progress']> {
  if (!process.stderr.isTTY) return (p) => process.stderr.write(`${p.file}: ${p.rows} rows, ${Math.round(p.rowsPerSec)} rows/s, ${p.rejects} rejected\n`);
  let current: { file: string; bar: SingleBar } | null = null;
  return (p) => {
    if (current?.file !== p.file) {
      current?.bar.stop();
      current = { file: p.file, bar: new SingleBar({ format: `${p.file} {bar} {percentage}% | {rows} rows | {speed} rows/s | ETA {eta_formatted} | {rejects} rejected`, stream: process.stderr }) };
      current.bar.start(p.total, 0, { rows: 0, speed: 0, rejects: 0 });
    }
    current.bar.update(p.bytes, { rows: p.rows, speed: Math.round(p.rowsPerSec), rejects: p.rejects });
    if (p.bytes >= p.total) current.bar.stop();
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string' },
      orders: { type: 'string' },
      url: { type: 'string', default: process.env.TIERBOT_URL ?? 'http://127.0.0.1:3000' },
      token: { type: 'string', default: process.env.ADMIN_TOKEN ?? '' },
    },
  });
  if (!values.customers && !values.orders) throw new Error('nothing to import: give --customers <file.csv|.xlsx> and/or --orders <file.csv|.xlsx>');
  if (!values.token) throw new Error('--token (or ADMIN_TOKEN) is required: the admin token the server printed at start');
  const o: ImportOptions = { url: values.url!.replace(/\/$/, ''), token: values.token, progress: bar() };
  // customers first: orders of customers not yet known are rejected
  for (const [kind, file] of [['customers', values.customers], ['orders', values.orders]] as const) {
    if (!file) continue;
    const r = await importFile(kind, file, o);
    process.stdout.write(`${kind}: ${r.rows} rows from ${file}, ${r.stored} stored, ${r.rejects} rejected${r.rejectsFile ? ` (see ${r.rejectsFile})` : ''}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: Error) => {
    process.stderr.write(`tierbot import: ${err.message}\n`);
    process.exit(1);
  });
}
