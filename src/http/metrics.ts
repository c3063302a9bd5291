// Prometheus metrics; one registry per app instance so tests can run several apps in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Histogram({
      name: 'tierbot_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    ordersIngested: new Counter({ name: 'tierbot_orders_ingested_total', help: 'Orders inserted or updated', registers: [registry] }),
    recomputeRuns: new Counter({ name: 'tierbot_recompute_runs_total', help: 'Finished recompute runs by status', labelNames: ['status'] as const, registers: [registry] }),
    recomputeDuration: new Gauge({ name: 'tierbot_recompute_last_duration_seconds', help: 'Duration of the latest recompute', registers: [registry] }),
    customersEvaluated: new Gauge({ name: 'tierbot_recompute_last_evaluated', help: 'Customers evaluated by the latest recompute', registers: [registry] }),
  };
}
export type AppMetrics = ReturnType<typeof createMetrics>;
