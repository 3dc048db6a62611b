/**
 * A real HTTPS man-in-the-middle on loopback for rejection tests: it presents the controller's own TLS cert, forwards
 * every request to the controller and lets the test rewrite `/config` replies (flipped byte, wrong sender hash,
 * foreign signer). Stands where an attacker or a broken proxy would stand; nothing here is mocked.
 */
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

export type Rewrite = (body: Buffer) => Buffer | Promise<Buffer>;

export interface TamperProxy {
  /** `host:port` to write into the device's `server` file. */
  server: string;
  /** The rewrite applied to 200 replies of `/config` (undefined = pass through). */
  rewriteConfig: Rewrite | undefined;
  close(): Promise<void>;
}

export async function startTamperProxy(controllerDataDir: string, upstream: string): Promise<TamperProxy> {
  const certs = path.join(controllerDataDir, 'certs');
  const [cert, key, ca] = await Promise.all([
    readFile(path.join(certs, 'server.pem')),
    readFile(path.join(certs, 'server-key.pem')),
    readFile(path.join(certs, 'root-certificate.pem')),
  ]);
  const proxy: TamperProxy = { server: '', rewriteConfig: undefined, close: async () => undefined };
  const srv = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = https.request(
        `https://${upstream}${req.url ?? '/'}`,
        { method: req.method, headers: { ...req.headers, host: upstream }, ca, agent: false },
        (ur) => {
          const body: Buffer[] = [];
          ur.on('data', (c: Buffer) => body.push(c));
          ur.on('end', () => {
            void (async () => {
              let out: Buffer = Buffer.concat(body);
              if (proxy.rewriteConfig && ur.statusCode === 200 && (req.url ?? '').endsWith('/config')) {
                out = await proxy.rewriteConfig(out);
              }
              res.writeHead(ur.statusCode ?? 502, { ...ur.headers, 'content-length': String(out.length) });
              res.end(out);
            })();
          });
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  proxy.server = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((r) => {
      srv.close(() => r());
      // close() waits for open connections; a request still held (a stopped agent's) must not hang the test's end.
      srv.closeAllConnections();
    });
  return proxy;
}
