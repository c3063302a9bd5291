// A load generator in its own process, so autocannon does not share the event loop (and core) with the app it
// measures. Started by callbackLoad() in callback.bench.ts with node's IPC channel: it receives one job, sends
// back autocannon's summary and exits. Each request of the job is used once per lap, in order.
import autocannon from 'autocannon';

export interface LoadJob {
  url: string;
  path: string;
  connections: number;
  overallRate: number;
  duration: number;
  requests: { headers: Record<string, string>; body: string }[];
}

export interface LoadSummary {
  completed: number;
  durationS: number;
  rate: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function runJob(job: LoadJob): Promise<LoadSummary> {
  let i = 0;
  const r = await autocannon({
    url: job.url,
    connections: job.connections,
    overallRate: job.overallRate,
    duration: job.duration,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: job.path,
        setupRequest: (req) => {
          const next = job.requests[i++ % job.requests.length];
          return { ...req, method: 'POST', path: job.path, headers: next.headers, body: next.body };
        },
      },
    ],
  });
  return {
    completed: r.requests.total,
    durationS: r.duration,
    rate: Math.round(r.requests.total / r.duration),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    mean: Math.round(r.latency.average * 100) / 100,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

process.once('message', (job: LoadJob) => {
  runJob(job).then(
    (summary) => process.send!({ ok: true, summary }, () => process.exit(0)),
    (err: Error) => process.send!({ ok: false, error: err.stack ?? String(err) }, () => process.exit(1)),
  );
});
