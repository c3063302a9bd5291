// Runs the DingTalk fake on its own thread (its own event loop), so the arrival times it records — and its
// rate-limit checks with a scaled-down window — are not skewed by event-loop stalls of the code under test.
// Started by outbox.test.ts through startFakeThread().
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { type Fault, FakeDingtalk, type FakeOptions, type FakeSnapshot } from '../../fakes/dingtalk.ts';

export interface FakeThreadConfig {
  kind: 'dingtalk-fake';
  options: FakeOptions;
  faults: { p5xx: number; pQps: number };
  /** one-off faults by arrival number */
  at: Record<number, 'expire_tokens' | Fault>;
}

export interface FakeThread {
  url: string;
  snapshot(): Promise<FakeSnapshot>;
  close(): Promise<void>;
}

/** Starts the fake in a worker thread (TypeScript through tsx's loader). */
export async function startFakeThread(config: FakeThreadConfig): Promise<FakeThread> {
  const entry = new URL(import.meta.url).href;
  const code = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(code, { eval: true, workerData: config });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: { type: string } & T) => {
        if (m.type !== type) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(m);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  const { url } = await next<{ url: string }>('ready');
  return {
    url,
    async snapshot() {
      const reply = next<{ snapshot: FakeSnapshot }>('snapshot');
      worker.postMessage('snapshot');
      return (await reply).snapshot;
    },
    async close() {
      const reply = next('closed');
      worker.postMessage('close');
      await reply;
      await worker.terminate();
    },
  };
}

// ---- inside the worker ----
if (parentPort && (workerData as FakeThreadConfig | undefined)?.kind === 'dingtalk-fake') {
  const port = parentPort;
  const config = workerData as FakeThreadConfig;
  const fake = await new FakeDingtalk(config.options).start();
  fake.faults = config.faults;
  fake.onArrival = (n) => {
    const what = config.at[n];
    if (what === 'expire_tokens') fake.expireTokens();
    else if (what) fake.failNext(what);
  };
  port.on('message', (msg: string) => {
    if (msg === 'snapshot') port.postMessage({ type: 'snapshot', snapshot: fake.snapshot() });
    if (msg === 'close') void fake.close().then(() => port.postMessage({ type: 'closed' }));
  });
  port.postMessage({ type: 'ready', url: fake.url });
}
