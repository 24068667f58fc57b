// One prom-client registry per service, with RED metrics for every RPC method.
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { bindCounter, bindHistogram, ChildCache, type BoundCounter, type BoundHistogram } from "./bound.ts";

export { Registry };

export function createRegistry(service: string, opts: { defaults?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // The event-loop delay histogram samples every 100 ms, not prom-client's 10: each sample wakes an idle
  // process, and 100 wakeups a second cost each of our idle processes ~1% of a core (~100 µs a wakeup on
  // a virtualised host), 7% for the 7-process mesh. Sampling keeps catching stalls: a blocked loop
  // delays whichever sample falls due next.
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  return registry;
}

export interface RpcMetrics {
  observe(method: string, code: string, seconds: number): void;
}

const rpcMetricsByRegistry = new WeakMap<Registry, RpcMetrics>();

/** RED metrics for RPCs: rate and errors via the counter, duration via the histogram. */
export function rpcMetrics(registry: Registry): RpcMetrics {
  const existing = rpcMetricsByRegistry.get(registry);
  if (existing) return existing;
  const total = new Counter({
    name: "llmgw_rpc_requests_total",
    help: "RPCs handled, by method and status code",
    labelNames: ["method", "code"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "llmgw_rpc_duration_seconds",
    help: "RPC handling time",
    labelNames: ["method"] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  // Labelled children are bound once per (method, code): prom-client's label handling per call
  // showed up in the hot path's profile. One entry per method holds its duration and its counters.
  const byMethod = new ChildCache<{ duration: BoundHistogram; totals: Map<string, BoundCounter> }>();
  const m: RpcMetrics = {
    observe(method, code, seconds) {
      const e = byMethod.get(method) ?? byMethod.set(method, { duration: bindHistogram(duration, { method }), totals: new Map() });
      let t = e.totals.get(code);
      if (!t) e.totals.set(code, (t = bindCounter(total, { method, code })));
      t.inc();
      e.duration.observe(seconds);
    },
  };
  rpcMetricsByRegistry.set(registry, m);
  return m;
}
