/**
 * Reads a kubeconfig file (k3s's `k3s.yaml`, the stand-in's, a `kubectl config view --raw`) into the one
 * endpoint of its current context: server URL, CA and credential. Inline `*-data` fields and file paths
 * (relative to the kubeconfig's folder) are both accepted; exec and auth-provider plugins are not (k3s never
 * writes them).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** Where and how to reach one API server. */
export interface KubeEndpoint {
  /** `https://host:port` (`http://` for a `kubectl proxy` or a test double). */
  server: string;
  /** Absent with `insecure-skip-tls-verify: true`. */
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
}

/** A kubeconfig that cannot be used, naming the field and why. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

type Named<K extends string> = { name?: unknown } & Partial<Record<K, Record<string, unknown>>>;

function pick<K extends string>(list: unknown, kind: K, name: unknown, file: string): Record<string, unknown> {
  const entries = Array.isArray(list) ? (list as Named<K>[]) : [];
  const found = entries.find((e) => e.name === name) ?? (name === undefined && entries.length === 1 ? entries[0] : undefined);
  const body = found?.[kind];
  if (!body || typeof body !== 'object') {
    throw new KubeconfigError(`kubeconfig ${file}: ${kind} ${name === undefined ? '(none named)' : JSON.stringify(name)} not found`);
  }
  return body;
}

/** `<field>-data` (base64) or `<field>` (a file path), as text. */
function material(o: Record<string, unknown>, field: string, dir: string, file: string): string | undefined {
  const data = o[`${field}-data`];
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64').toString('utf8');
  const ref = o[field];
  if (typeof ref !== 'string' || !ref) return undefined;
  try {
    return readFileSync(path.resolve(dir, ref), 'utf8');
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${file}: ${field} ${ref}: ${(e as Error).message}`);
  }
}

/** Parses kubeconfig text (`file` names it in errors and anchors relative paths). */
export function parseKubeconfig(text: string, file: string): KubeEndpoint {
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${file}: not YAML: ${(e as Error).message}`);
  }
  const dir = path.dirname(file);
  const current = doc['current-context'];
  const context = pick(doc.contexts, 'context', current === '' ? undefined : current, file);
  const cluster = pick(doc.clusters, 'cluster', context.cluster, file);
  const user = context.user === undefined ? {} : pick(doc.users, 'user', context.user, file);
  const server = cluster.server;
  if (typeof server !== 'string' || !/^https?:\/\//.test(server)) {
    throw new KubeconfigError(`kubeconfig ${file}: clusters[].cluster.server must be an https:// (or http://) URL, got ${JSON.stringify(server)}`);
  }
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  const caPem = material(cluster, 'certificate-authority', dir, file);
  if (!caPem && !insecure && server.startsWith('https:')) {
    throw new KubeconfigError(`kubeconfig ${file}: cluster has neither certificate-authority(-data) nor insecure-skip-tls-verify`);
  }
  const certPem = material(user, 'client-certificate', dir, file);
  const keyPem = material(user, 'client-key', dir, file);
  if (Boolean(certPem) !== Boolean(keyPem)) {
    throw new KubeconfigError(`kubeconfig ${file}: user has a client certificate without its key (or the reverse)`);
  }
  const token = typeof user.token === 'string' && user.token ? user.token : undefined;
  return {
    server: server.replace(/\/+$/, ''),
    ...(caPem && !insecure ? { caPem } : {}),
    ...(certPem && keyPem ? { certPem, keyPem } : {}),
    ...(token ? { token } : {}),
  };
}

/** Reads and parses a kubeconfig file. @throws KubeconfigError */
export function readKubeconfig(file: string): KubeEndpoint {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${file}: ${(e as Error).message}`);
  }
  return parseKubeconfig(text, file);
}
