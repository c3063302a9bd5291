// One benchmark in its own process (started by run.ts): `node --import tsx [flags] child.ts <file> <options JSON>`.
// Runs the file's run(options) and sends the result (plus this process's peak RSS) back over the IPC channel.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchOptions, BenchResult } from './common.ts';

export interface ChildAnswer {
  ok: boolean;
  result?: BenchResult;
  error?: string;
  peakRssMb: number;
}

async function main(): Promise<void> {
  const [file, json] = process.argv.slice(2);
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as { run?: (opts: BenchOptions) => Promise<BenchResult> };
  if (typeof mod.run !== 'function') throw new Error(`${file} does not export run()`);
  const result = await mod.run(JSON.parse(json || '{}') as BenchOptions);
  send({ ok: true, result, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }, 0);
}

function send(answer: ChildAnswer, code: number): void {
  if (process.send) process.send(answer, () => process.exit(code));
  else {
    console.log(JSON.stringify(answer));
    process.exit(code);
  }
}

main().catch((err: Error) => send({ ok: false, error: err.stack ?? String(err), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }, 1));
