/**
 * The admin kubeconfig a server writes, shaped like k3s's `k3s.yaml` (cluster, context and user all named
 * `default`), with the cluster CA embedded and a bearer token as the credential. Written atomically with the
 * requested mode (k3s `--write-kubeconfig-mode`, stand-in default 0600).
 */
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

/** What goes into the kubeconfig. */
export interface KubeconfigSpec {
  /** `https://127.0.0.1:6443` or `https://<node-ip>:6443`. */
  server: string;
  caPem: string;
  token: string;
}

/** Renders the kubeconfig YAML. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  return stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(spec.caPem).toString('base64'), server: spec.server }, name: 'default' }],
    contexts: [{ context: { cluster: 'default', user: 'default' }, name: 'default' }],
    'current-context': 'default',
    kind: 'Config',
    preferences: {},
    users: [{ name: 'default', user: { token: spec.token } }],
  });
}

/** Writes the kubeconfig to `file` (tmp file + rename) with `mode`. */
export function writeKubeconfig(file: string, spec: KubeconfigSpec, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, renderKubeconfig(spec), { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}
