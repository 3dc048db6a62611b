/**
 * Prometheus for a fleet: `GET /metrics` on a loopback address (`--metrics-listen`), serving the fleet's registry
 * (aggregates by phase, endpoint and status; never a series per device) plus the process's default metrics.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, type Registry } from 'prom-client';
import { errorMessage } from '../common/index.js';
import { parseLoopbackListen } from '../agent/admin/index.js';

export class FleetMetricsServer {
  private constructor(private readonly server: http.Server) {}

  /** Listens on `listen` (loopback `host:port`, port 0 = any free one). */
  static async start(registry: Registry, listen: string): Promise<FleetMetricsServer> {
    const { host, port } = parseLoopbackListen(listen);
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
