/**
 * What the agent needs of k3s (cluster.md §3–§6, §9): the public surface of `src/k3s/` (the stand-in under
 * `standin/` is a separate program and is not exported here).
 *
 * - `naming.ts`         — EVE's node, app-workload and PVC names (pure).
 * - `drop-ins.ts`       — base `config.yaml` and `config.yaml.d/` drop-ins, rendered and applied atomically.
 * - `supervisor.ts`     — runs `k3s server|agent` (real binary or `edgesim k3s`) with kube-init's restart backoff.
 * - `status-server.ts`  — the cluster status server on `<cluster IP>:12346`.
 * - `join-handshake.ts` — a joiner's wait for the bootstrap server.
 * - `kube.ts`           — the agent's Kubernetes API calls, plain node/pod status types and normalised errors,
 *                         over `kube-http.ts` (JSON over HTTPS, shared with the stand-in) and `kubeconfig.ts`.
 * - `lease-election.ts` — Lease leader election for `eve-kube-stats-leader`.
 */
export * from './naming.js';
export * from './drop-ins.js';
export * from './supervisor.js';
export * from './status-server.js';
export * from './join-handshake.js';
export * from './kube.js';
export * from './lease-election.js';
