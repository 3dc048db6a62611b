/**
 * Model-based test of the real ClusterReconciler (issue 11): seeded random sequences of configs (valid, invalid,
 * undecryptable, absent, same-cluster version bumps), some arriving while a transition is still running, applied
 * to the reconciler with a fake network (which refuses a delete under the wrong prefix, as the kernel does), a
 * fake k3s, a fake status server (which cannot bind an address that is not there) and a fake bootstrap wait that
 * sometimes fails. After each quiescence the world must be what the last usable config implies.
 *
 * Reproduce a failure with `MODEL_SEED=<seed> node --test dist/test/unit/agent/cluster/cluster-reconciler-model.test.js`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultSet } from '../../../../src/agent/faults.js';
import { ClusterReconciler, type ClusterNetwork } from '../../../../src/agent/cluster/cluster-reconciler.js';
import type { ClusterAddress } from '../../../../src/agent/cluster/cluster-plan.js';
import type { ClusterK3s, K3sRunning, K3sStartInput } from '../../../../src/agent/cluster/k3s-runtime.js';
import { parseDeviceConfig, type DeviceConfig } from '../../../../src/agent/parse-config.js';
import { createClock, createLogger, seededRandom, silentLogger } from '../../../../src/common/index.js';
import type { org } from '../../../../src/gen/eve.js';

const SEED = Number(process.env.MODEL_SEED ?? 20261204);
const STEPS = Number(process.env.MODEL_STEPS ?? 1_200);
const SINGLE_IP = '127.0.0.9';


/** Interfaces with their addresses, as `ip addr` holds them. */
class FakeNetwork implements ClusterNetwork {
  readonly links = new Map<string, Set<string>>([
    ['eth1', new Set()],
    ['eth2', new Set()],
  ]);
  failNext = false;
  add(a: ClusterAddress): Promise<void> {
    const link = this.links.get(a.ifname);
    if (!link) return Promise.reject(new Error(`ip addr add: Cannot find device "${a.ifname}"`));
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('ip addr add: RTNETLINK answers: Resource temporarily unavailable'));
    }
    link.add(`${a.ip}/${a.prefix}`);
    return Promise.resolve();
  }
  remove(a: ClusterAddress): Promise<void> {
    const link = this.links.get(a.ifname);
    const cidr = `${a.ip}/${a.prefix}`;
    // The kernel refuses a delete whose prefix is not the address's own.
    if (!link?.has(cidr)) return Promise.reject(new Error(`ip addr del ${cidr}: RTNETLINK answers: Cannot assign requested address`));
    link.delete(cidr);
    return Promise.resolve();
  }
  has(ip: string): boolean {
    return [...this.links.values()].some((l) => [...l].some((c) => c.startsWith(`${ip}/`)));
  }
  all(): string[] {
    return [...this.links].flatMap(([name, l]) => [...l].map((c) => `${name} ${c}`)).sort();
  }
}

/** k3s as the reconciler sees it: written drop-ins, the process started with them, its data's owner. */
class FakeK3s implements ClusterK3s {
  readonly kubeconfigPath = '/nonexistent/k3s.yaml';
  readonly process = undefined;
  written: K3sStartInput | undefined;
  running: K3sStartInput | undefined;
  owner = '';
  failNextStart = false;
  starts = 0;
  kube(): undefined {
    return undefined;
  }
  etcdInitialized(): Promise<boolean> {
    return Promise.resolve(this.owner.includes('/bootstrap/'));
  }
  writeConfig(p: K3sStartInput): Promise<K3sRunning> {
    this.written = structuredClone(p);
    return Promise.resolve(this.describe(p));
  }
  startProcess(): Promise<K3sRunning> {
    if (!this.written) return Promise.reject(new Error('no config written'));
    if (this.failNextStart) {
      this.failNextStart = false;
      return Promise.reject(new Error('k3s exited at once'));
    }
    this.starts++;
    this.running = structuredClone(this.written);
    return Promise.resolve(this.describe(this.written));
  }
  stopProcess(): Promise<void> {
    this.running = undefined;
    return Promise.resolve();
  }
  reset(): Promise<void> {
    this.running = undefined;
    this.written = undefined;
    this.owner = '';
    return Promise.resolve();
  }
  dataOwner(): Promise<string> {
    return Promise.resolve(this.owner);
  }
  setDataOwner(owner: string): Promise<void> {
    this.owner = owner;
    return Promise.resolve();
  }
  private describe(p: K3sStartInput): K3sRunning {
    return { role: p.cluster ? (p.cluster.bootstrap ? 'bootstrap' : p.cluster.isWorkerNode ? 'agent' : 'server') : 'single', nodeName: 'dev', nodeIp: p.nodeIp };
  }
}

const CLUSTERS = ['5b2b5e1c-8a46-4c5f-9a57-7f3c1c2e0d11', '7c3c6f2d-9b57-4d6a-8b68-8a4d2d3f1e22'];
const IPS = ['10.1.0.2', '10.1.0.3', '10.1.0.4'];
const TOKENS = ['token-one-aaaa', 'token-two-bbbb'];

interface Block {
  clusterId: string;
  ip: string;
  prefix: number;
  join: string;
  iface: string;
  worker: boolean;
  token: string;
}

function wire(version: number, block: Block | undefined, flavour: 'valid' | 'invalid' | 'undecryptable' = 'valid'): DeviceConfig {
  const cfg: org.lfedge.eve.config.IEdgeDevConfig = { id: { uuid: 'a0000000-0000-4000-8000-000000000001', version: String(version) }, device_name: 'dev' };
  if (block) {
    cfg.cluster = {
      cluster_name: 'c',
      cluster_id: block.clusterId,
      cluster_interface: block.iface,
      cluster_ip_prefix: flavour === 'invalid' ? `${block.ip}/99` : `${block.ip}/${block.prefix}`,
      join_server_ip: block.join,
      is_worker_node: block.worker,
      encrypted_cluster_token: { cipherContextId: flavour === 'undecryptable' ? 'unknown-ctx' : 'ctx', cipherData: Buffer.from(block.token) },
    };
    cfg.cipherContexts = [{ contextId: 'ctx' }];
  }
  return parseDeviceConfig(cfg);
}

test(`model: ${STEPS} random config changes converge to the last usable config (seed ${SEED})`, async () => {
  const keepAlive = setInterval(() => undefined, 1_000); // the clock's timers do not hold the process open
  const random = seededRandom(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const clock = createClock(10_000); // retries back off 5 s → 5 min spec: 0.5 → 30 ms here
  const net = new FakeNetwork();
  const k3s = new FakeK3s();
  let server: { ip: string; clusterId: string } | undefined;
  let waits = 0;
  let failedWaits = 0;
  let abortedWaits = 0;
  const r = new ClusterReconciler({
    stateDir: '/nonexistent',
    launch: { bin: 'k3s', args: [], standin: false },
    ifaceMap: { ethernet1: 'eth1', ethernet2: 'eth2' },
    singleNodeIp: SINGLE_IP,
    deviceUuid: () => 'a0000000-0000-4000-8000-000000000001',
    decryptToken: (v) => {
      if (!v.context) return Promise.reject(new Error(`cipher context ${v.contextId} not found`));
      const token = v.cipherData.toString();
      return Promise.resolve({ token, digest: `digest-${token}` });
    },
    publishInfo: () => Promise.resolve(),
    emit: () => undefined,
    faults: new FaultSet(clock),
    clock,
    logger: process.env.MODEL_DEBUG ? createLogger({ level: 'debug', format: 'text' }) : silentLogger,
    k3s,
    network: net,
    monitor: false,
    startStatusServer: (ip, clusterId) => {
      if (!net.has(ip)) return Promise.reject(new Error(`listen ${ip}:12346: EADDRNOTAVAIL`));
      assert.equal(server, undefined, 'one status server at a time');
      server = { ip, clusterId };
      return Promise.resolve({
        stop: () => {
          server = undefined;
          return Promise.resolve();
        },
      });
    },
    waitForBootstrap: async (_join, _id, signal) => {
      waits++;
      try {
        await clock.sleepReal(1 + random() * 2, signal);
      } catch (e) {
        abortedWaits++;
        throw e;
      }
      if (random() < 0.15) {
        failedWaits++;
        throw new Error('bootstrap server unreachable after 6 consecutive non-transient probe errors');
      }
    },
  });

  let lastGood: { block: Block | undefined } | undefined; // undefined: no usable config yet
  let last: Block | undefined;
  let version = 0;
  let checks = 0;
  const counts = { valid: 0, invalid: 0, undecryptable: 0, absent: 0, bump: 0 };

  const check = (step: number): void => {
    const where = `seed ${SEED}, step ${step}`;
    assert.deepEqual(r.pendingSteps(), [], `${where}: converged`);
    if (!lastGood) {
      assert.deepEqual(net.all(), [], `${where}: nothing added before a usable config`);
      assert.equal(k3s.running, undefined, `${where}: no k3s before a usable config`);
      return;
    }
    const b = lastGood.block;
    if (!b) {
      assert.deepEqual(net.all(), [], `${where}: single-node has no cluster address`);
      assert.equal(server, undefined, `${where}: single-node has no status server`);
      assert.deepEqual(k3s.running, { deviceName: 'dev', deviceUuid: 'a0000000-0000-4000-8000-000000000001', nodeIp: SINGLE_IP }, `${where}: single-node k3s`);
      return;
    }
    const ifname = b.iface === 'ethernet1' ? 'eth1' : 'eth2';
    assert.deepEqual(net.all(), [`${ifname} ${b.ip}/${b.prefix}`], `${where}: exactly the cluster address, no stale one`);
    assert.deepEqual(server, { ip: b.ip, clusterId: b.clusterId }, `${where}: status server on the cluster IP`);
    const bootstrap = b.ip === b.join;
    const c = k3s.running?.cluster;
    assert.ok(c, `${where}: k3s runs in cluster mode`);
    assert.deepEqual(
      [c.clusterId, c.clusterIp, c.joinServerIp, c.token, c.clusterIfName, c.bootstrap, c.isWorkerNode],
      [b.clusterId, b.ip, b.join, b.token, ifname, bootstrap, !bootstrap && b.worker],
      `${where}: k3s runs with the drop-ins of the last usable config`,
    );
    assert.equal(k3s.running?.nodeIp, b.ip);
    checks++;
  };

  for (let step = 0; step < STEPS; step++) {
    const roll = random();
    let cfg: DeviceConfig;
    if (roll < 0.45 || (roll < 0.6 && !last)) {
      const join = pick(IPS);
      last = { clusterId: pick(CLUSTERS), ip: random() < 0.3 ? join : pick(IPS), prefix: pick([24, 16]), join, iface: pick(['ethernet1', 'ethernet2']), worker: random() < 0.3, token: pick(TOKENS) };
      cfg = wire(++version, last);
      lastGood = { block: last };
      counts.valid++;
    } else if (roll < 0.6) {
      cfg = wire(++version, last); // same cluster, only the version changes
      lastGood = { block: last };
      counts.bump++;
    } else if (roll < 0.7) {
      cfg = wire(++version, last ?? { clusterId: CLUSTERS[0], ip: IPS[0], prefix: 24, join: IPS[0], iface: 'ethernet1', worker: false, token: TOKENS[0] }, 'invalid');
      counts.invalid++;
    } else if (roll < 0.8) {
      const b: Block = { clusterId: pick(CLUSTERS), ip: pick(IPS), prefix: 24, join: pick(IPS), iface: 'ethernet1', worker: false, token: pick(TOKENS) };
      cfg = wire(++version, b, 'undecryptable');
      counts.undecryptable++;
    } else {
      last = undefined;
      cfg = wire(++version, undefined);
      lastGood = { block: undefined };
      counts.absent++;
    }
    if (random() < 0.05) net.failNext = true;
    if (random() < 0.05) k3s.failNextStart = true;
    void r.onConfig(cfg);
    // Half of the configs arrive while the previous one is still being applied (often inside its join wait).
    if (random() < 0.5) {
      await r.settled();
      check(step);
    } else {
      await clock.sleepReal(random() < 0.5 ? 0 : random() * 2);
    }
  }
  await r.settled();
  check(STEPS);
  assert.ok(checks > 150, `enough quiescent checks in cluster mode (${checks})`);
  assert.ok(failedWaits > 5 && abortedWaits > 5, `join waits failed (${failedWaits}) and were aborted (${abortedWaits}) of ${waits}`);
  assert.ok(Object.values(counts).every((n) => n > 50), `every kind of config was sent: ${JSON.stringify(counts)}`);

  await r.stop();
  assert.deepEqual(net.all(), [], 'stop removes the cluster address');
  assert.equal(k3s.running, undefined, 'stop stops k3s');
  assert.equal(server, undefined, 'stop stops the status server');
  clearInterval(keepAlive);
});
