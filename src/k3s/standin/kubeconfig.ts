/**
 * The admin kubeconfig a server writes, shaped like k3s's `k3s.yaml` (cluster, context and user all named
 * `default`), with the cluster CA embedded and a bearer token as the credential. Written atomically with the
 * requested mode (k3s `--write-kubeconfig-mode`, stand-in default 0600).
 */
import { writeFileAtomicSync } from '../../common/atomic-file.js';
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

/** Writes the kubeconfig to `file` atomically with `mode`. */
export function writeKubeconfig(file: string, spec: KubeconfigSpec, mode: number): void {
  // The folder keeps the usual 0755 (k3s's /etc/rancher/k3s); the file's mode is the caller's.
  writeFileAtomicSync(file, renderKubeconfig(spec), { mode, dirMode: 0o755 });
}
