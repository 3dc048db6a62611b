/**
 * What the fleet's devices ask of the controller, aggregated over all of them: requests by endpoint and outcome,
 * and latency per endpoint. Two consumers: Prometheus (cumulative counters and a histogram, labels bounded by the
 * EVE endpoints and HTTP statuses, never per device) and the live view (rates and p50/p99 over the last period).
 * The transport is observed by subclassing the shared ControllerClient: the protocol code is unchanged.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { ControllerClient, type ControllerClientOptions, type ControllerResponse, type RequestOptions } from '../agent/index.js';

/** Latency samples kept per endpoint and period for the percentiles (a uniform reservoir beyond that). */
const RESERVOIR = 4096;
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

/** One endpoint's figures over a period. */
export interface EndpointPeriod {
  /** Requests per second, by outcome (`201`, `304`, `unreachable`…). */
  perSecond: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
}

interface Window {
  counts: Map<string, number>;
  samples: number[];
  seen: number;
}

/** Percentile of an ascending array (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** The endpoint of an EVE API v2 URL: its last path segment (`config`, `info`, `register`…). */
export function endpointOf(url: string): string {
  const q = url.indexOf('?');
  const p = q < 0 ? url : url.slice(0, q);
  return p.slice(p.lastIndexOf('/') + 1) || 'other';
}

export class RequestMetrics {
  private windows = new Map<string, Window>();
  private periodStart = performance.now();
  private readonly cumulative = new Map<string, number>();
  private readonly counter: Counter<'endpoint' | 'status'>;
  private readonly histogram: Histogram<'endpoint'>;

  constructor(registry: Registry, private readonly random: () => number = Math.random) {
    this.counter = new Counter({
      name: 'edgesim_fleet_requests_total',
      help: 'Requests of all devices to the controller, by EVE endpoint and outcome (HTTP status or "unreachable").',
      labelNames: ['endpoint', 'status'],
      registers: [registry],
    });
    this.histogram = new Histogram({
      name: 'edgesim_fleet_request_duration_seconds',
      help: 'Round-trip time of controller requests (signing excluded), by EVE endpoint.',
      labelNames: ['endpoint'],
      buckets: LATENCY_BUCKETS_S,
      registers: [registry],
    });
  }

  /** Records one request's outcome and duration (ms). */
  record(endpoint: string, outcome: string, ms: number): void {
    this.counter.inc({ endpoint, status: outcome });
    this.histogram.observe({ endpoint }, ms / 1000);
    const key = `${endpoint} ${outcome}`;
    this.cumulative.set(key, (this.cumulative.get(key) ?? 0) + 1);
    let w = this.windows.get(endpoint);
    if (!w) this.windows.set(endpoint, (w = { counts: new Map(), samples: [], seen: 0 }));
    w.counts.set(outcome, (w.counts.get(outcome) ?? 0) + 1);
    w.seen++;
    if (w.samples.length < RESERVOIR) w.samples.push(ms);
    else {
      const j = Math.floor(this.random() * w.seen);
      if (j < RESERVOIR) w.samples[j] = ms;
    }
  }

  /** Requests since start, keyed `"<endpoint> <outcome>"`. */
  totals(): Record<string, number> {
    return Object.fromEntries(this.cumulative);
  }

  /** Requests since start to `endpoint` (with `outcome`, when given). */
  total(endpoint: string, outcome?: string): number {
    let n = 0;
    for (const [k, v] of this.cumulative) {
      const [e, o] = k.split(' ');
      if (e === endpoint && (outcome === undefined || o === outcome)) n += v;
    }
    return n;
  }

  /** The figures since the previous call, per endpoint; starts a new period. */
  takePeriod(): Record<string, EndpointPeriod> {
    const now = performance.now();
    const seconds = Math.max(0.001, (now - this.periodStart) / 1000);
    const out: Record<string, EndpointPeriod> = {};
    for (const [endpoint, w] of [...this.windows].sort(([a], [b]) => a.localeCompare(b))) {
      const sorted = w.samples.sort((a, b) => a - b);
      const perSecond: Record<string, number> = {};
      for (const [o, n] of w.counts) perSecond[o] = Math.round((n / seconds) * 10) / 10;
      out[endpoint] = { perSecond, p50Ms: round1(percentile(sorted, 0.5)), p99Ms: round1(percentile(sorted, 0.99)) };
    }
    this.windows = new Map();
    this.periodStart = now;
    return out;
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The controller client of a fleet: the shared keep-alive pool, with every request recorded in `metrics`. */
export class ObservedControllerClient extends ControllerClient {
  constructor(
    opts: ControllerClientOptions,
    private readonly metrics: RequestMetrics,
  ) {
    super(opts);
  }

  override async request(url: string, body: Uint8Array | undefined, opts: RequestOptions = {}): Promise<ControllerResponse> {
    const t0 = performance.now();
    const endpoint = endpointOf(url);
    try {
      const res = await super.request(url, body, opts);
      this.metrics.record(endpoint, String(res.status), performance.now() - t0);
      return res;
    } catch (e) {
      if (!opts.signal?.aborted) this.metrics.record(endpoint, 'unreachable', performance.now() - t0);
      throw e;
    }
  }
}
