/**
 * Benchmark of the k3s stand-in (real time, no scaling): (1) time from starting three `edgesim k3s server`
 * processes at once (one cluster-init, two joins) to three Ready nodes, and the part after the bootstrap node is
 * Ready (the joins); (2) watch latency of a pod update — from sending a label patch to receiving the MODIFIED
 * event, over 30 updates.
 * Run: `node --import tsx bench/standin.ts` (or `node dist/bench/standin.js` after `npm run build`).
 */
import * as k8s from '@kubernetes/client-node';
import { StandinCluster, missingPrerequisite, readiness, waitFor } from '../test/integration/standin/harness.js';

const skip = missingPrerequisite();
if (skip) {
  process.stdout.write(`standin bench skipped: ${skip}\n`);
  process.exit(0);
}

const cluster = new StandinCluster('bench-token', 1);
try {
  const t0 = performance.now();
  cluster.start('server', 'b1', '127.0.4.2', ['--cluster-init']);
  cluster.start('server', 'b2', '127.0.4.3', ['--server', 'https://127.0.4.2:6443']);
  cluster.start('server', 'b3', '127.0.4.4', ['--server', 'https://127.0.4.2:6443']);
  await cluster.waitKubeconfig('b1', 60_000);
  const kc = cluster.kubeConfig('b1');
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let firstReadyMs: number | undefined;
  await waitFor('3 Ready nodes', 120_000, async () => {
    const r = await readiness(core);
    const ready = [...r.values()].filter((s) => s === 'True').length;
    if (ready >= 1) firstReadyMs ??= performance.now() - t0;
    return ready === 3;
  });
  const readyMs = performance.now() - t0;

  await waitFor('default namespace', 10_000, async () => (await core.listNamespace()).items.some((n) => n.metadata?.name === 'default'));
  await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'bench' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
  const pending = new Map<string, (t: number) => void>();
  const req = await new k8s.Watch(kc).watch(
    '/api/v1/namespaces/default/pods',
    { fieldSelector: 'metadata.name=bench' },
    (type, obj: k8s.V1Pod) => {
      const seq = obj.metadata?.labels?.seq;
      if (type === 'MODIFIED' && seq && pending.has(seq)) pending.get(seq)!(performance.now());
    },
    () => undefined,
  );
  const samples: number[] = [];
  const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
  for (let i = 0; i < 30; i++) {
    const seen = new Promise<number>((resolve) => pending.set(String(i), resolve));
    const sent = performance.now();
    await core.patchNamespacedPod({ name: 'bench', namespace: 'default', body: { metadata: { labels: { seq: String(i) } } } }, merge);
    samples.push((await seen) - sent);
  }
  req.abort();
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))].toFixed(1);
  process.stdout.write(
    `standin: 3 servers started → 3 Ready nodes in ${(readyMs / 1000).toFixed(1)} s ` +
      `(bootstrap Ready after ${(firstReadyMs! / 1000).toFixed(1)} s, the two joiners ${((readyMs - firstReadyMs!) / 1000).toFixed(1)} s later)\n` +
      `standin: pod update → watch event latency over ${samples.length}: median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms\n`,
  );
} finally {
  await cluster.stopAll();
}
