/**
 * Prometheus for a fleet: `GET /metrics` on `--metrics-listen`, serving the fleet's registry (aggregates by phase,
 * endpoint and status; never a series per device, no key, certificate or token) plus the process's default metrics.
 * Loopback unless another address is written out: a fleet pod of a Kubernetes Job is scraped over the pod network.
 * It is a listening socket; the fleet sends nothing there.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { errorMessage } from '../common/index.js';
import { parseMetricsListen } from '../agent/admin/index.js';

export class FleetMetricsServer {
  private constructor(private readonly server: http.Server) {}

  /** Listens on `listen` (`host:port`, a bare port = 127.0.0.1; port 0 = any free one). */
  static async start(registry: Registry, listen: string): Promise<FleetMetricsServer> {
    const { host, port } = parseMetricsListen(listen, { remote: true });
    collectDefaultMetrics({ register: registry });
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end('not found: try GET /metrics\n');
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(`metrics failed: ${errorMessage(e)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return new FleetMetricsServer(server);
  }

  /** `http://host:port/metrics`. */
  get url(): string {
    const a = this.server.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
