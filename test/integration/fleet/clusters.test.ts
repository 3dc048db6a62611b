/**
 * Issue 13 in a fleet run: the profile declares 50 three-node clusters with one PREFERRED app each; the fleet (its
 * own process, time-scaled) onboards 150 devices against the embedded controller, applies the clusters through its
 * admin API, and the members form them on in-process k3s. At the controller: each cluster's leader reports
 * ZInfoKubeCluster with 3 Ready nodes, and its app runs on one member. Then a member (the app's node) of each of 10
 * clusters loses power at once → at the controller, each of those apps is reported running by exactly one survivor.
 * Without the embedded controller's admin API, the fleet writes what another controller must be given.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { listedReady, type ClusterSpec, type InfoItem, type KubeClusterJson } from '../../../src/controller/index.js';
import { FleetAdminClient, fleetSocketPath } from '../../../src/fleet/index.js';
import { startTestController, type TestController } from '../../helpers/controller.js';
import { startFleet, stateUuids, type FleetProcess } from '../../helpers/fleet.js';
import { waitFor } from '../../helpers/wait.js';

const CLUSTERS = 50;
const SIZE = 3;
const KILLED = 10;
const PREFIX = 'it-fc-';

interface AppJson {
  AppID?: string;
  state?: string;
  cluster_app_running?: boolean;
}

void describe(`fleet: ${CLUSTERS} three-node clusters with apps against the embedded controller`, () => {
  let ctl: TestController;
  let fleet: FleetProcess | undefined;
  let stateFile: string;
  let admin: FleetAdminClient | undefined;
  /** Member serials of cluster k: the profile takes the serials in order. */
  const members = (k: number): string[] => Array.from({ length: SIZE }, (_, i) => `${PREFIX}${k * SIZE + i}`);
  let uuids = new Map<string, string>();
  /** Members powered off and on again. */
  let powered: string[] = [];

  const latest = async (uuid: string, type: string): Promise<InfoItem[]> => ctl.admin.info(uuid, { types: [type] });
  /** The newest ZInfoKubeCluster a member of cluster k stored at the controller (the leader reports it). */
  const kubeCluster = async (k: number): Promise<KubeClusterJson | undefined> => {
    let best: InfoItem | undefined;
    for (const s of members(k)) {
      const last = (await latest(uuids.get(s)!, 'ZiKubeCluster')).at(-1);
      if (last && (!best || last.receivedAt > best.receivedAt)) best = last;
    }
    return (best?.info as { cluster_info?: KubeClusterJson } | undefined)?.cluster_info;
  };
  /** The app state each given member last reported (undefined: none yet). */
  const appReports = async (serials: string[]): Promise<Map<string, AppJson | undefined>> => {
    const out = new Map<string, AppJson | undefined>();
    for (const s of serials) out.set(s, ((await latest(uuids.get(s)!, 'ZiApp')).at(-1)?.info as { ainfo?: AppJson } | undefined)?.ainfo);
    return out;
  };
  const running = (a: AppJson | undefined): boolean => a?.state === 'RUNNING' && a.cluster_app_running === true;

  before(async () => {
    ctl = await startTestController();
    const folder = await ctl.deviceFolder('fleet-clusters');
    await ctl.admin.addOnboard(await readFile(path.join(folder, 'onboard.cert.pem'), 'utf8'), ['*']);
    stateFile = path.join(ctl.dir, 'fleet.db');
    const profile = path.join(ctl.dir, 'profile.yaml');
    await writeFile(profile, `clusters:\n  - count: ${CLUSTERS}\n    size: ${SIZE}\n    apps: [{ name: web, affinity: preferred }]\n`);
    fleet = startFleet([
      '--config-dir', folder, '--state', stateFile, '--count', String(CLUSTERS * SIZE), '--ramp', '1000', '--serial-prefix', PREFIX,
      '--profile', profile, '--controller-admin', ctl.admin.adminUrl, '--k3s-config', 'pod-start-delay=1s',
      // Spec time 20× real: EVE's 10 s app pass is 0.5 s, the node monitor's 40 s grace 2 s.
      '--time-scale', '20', '--config-interval', '20', '--info-interval', '600', '--metric-interval', '600',
    ]);
    admin = new FleetAdminClient(fleetSocketPath(stateFile));
  });
  after(async () => {
    admin?.close();
    await fleet?.stop();
    await ctl?.dispose();
  });

  void it(`${CLUSTERS} clusters form: each leader reports ${SIZE} Ready nodes, each app runs on one member`, async () => {
    await fleet!.until('every cluster applied at the controller', (s) => s.clusters?.requested === CLUSTERS, 120_000);
    uuids = stateUuids(stateFile);
    assert.equal(uuids.size, CLUSTERS * SIZE);
    const pending = new Set(Array.from({ length: CLUSTERS }, (_, k) => k));
    await waitFor('every leader reports 3 Ready nodes', async () => {
      for (const k of [...pending]) {
        const kc = await kubeCluster(k);
        const ids = new Set(members(k).map((s) => uuids.get(s)));
        if (kc?.nodes?.length === SIZE && kc.nodes.every((n) => listedReady(n) && ids.has(n.node_id))) pending.delete(k);
      }
      return pending.size === 0;
    }, 120_000, 1_000);
    const notRunning = new Set(Array.from({ length: CLUSTERS }, (_, k) => k));
    await waitFor('every cluster reports its app running', async () => {
      for (const k of [...notRunning]) if ([...(await appReports(members(k))).values()].some(running)) notRunning.delete(k);
      return notRunning.size === 0;
    }, 120_000, 1_000);
    for (let k = 0; k < CLUSTERS; k++) {
      const reporters = [...(await appReports(members(k)))].filter(([, a]) => running(a)).map(([s]) => s);
      assert.equal(reporters.length, 1, `cluster ${k}: exactly one member reports its app running: ${reporters.join(', ')}`);
    }
  });

  void it('a cluster fault through the fleet fault path: heartbeats paused on one member → the leader lists it not Ready, then Ready', async () => {
    const k = CLUSTERS - 1;
    const serial = members(k)[2];
    const nodeOf = async (): Promise<boolean | undefined> => {
      const nodes = (await kubeCluster(k))?.nodes;
      const n = nodes?.find((x) => x.node_id === uuids.get(serial));
      return n ? listedReady(n) : undefined;
    };
    assert.equal(await nodeOf(), true);
    assert.deepEqual(await admin!.injectFault({ kind: 'heartbeats-paused', fraction: 1, serials: [serial] }), [serial]);
    await waitFor(`the leader of cluster ${k} lists ${serial} not Ready`, async () => (await nodeOf()) === false, 60_000, 500);
    assert.equal(await admin!.clearFault('heartbeats-paused'), 1);
    await waitFor(`the leader of cluster ${k} lists ${serial} Ready again`, async () => (await nodeOf()) === true, 60_000, 500);
  });

  void it(`a member of each of ${KILLED} clusters loses power at once: each app is reported running by exactly one survivor`, async () => {
    // The app is designated to the first member; kill whichever member reports it running now.
    const victims: { k: number; serial: string; app: string }[] = [];
    for (let k = 0; k < KILLED; k++) {
      const reports = await appReports(members(k));
      const [serial, a] = [...reports].find(([, r]) => running(r))!;
      victims.push({ k, serial, app: a!.AppID! });
    }
    const hit = await admin!.injectFault({ kind: 'power-loss', fraction: 1, serials: victims.map((v) => v.serial) });
    assert.deepEqual(hit.sort(), victims.map((v) => v.serial).sort());
    assert.equal((await admin!.status()).faults['power-loss'], KILLED);
    const injectedAt = Date.now();
    const survivors = (v: (typeof victims)[number]): string[] => members(v.k).filter((s) => s !== v.serial);
    await waitFor('each app reported running by a survivor', async () => {
      for (const v of victims) {
        const r = await appReports(survivors(v));
        if (![...r.values()].some((a) => running(a) && a?.AppID === v.app)) return false;
      }
      return true;
    }, 120_000, 1_000);
    // Three app passes more (10 s spec each = 1.5 s): a second reporter would have shown by then.
    await new Promise((r) => setTimeout(r, 2_000));
    for (const v of victims) {
      const r = await appReports(survivors(v));
      const reporters = [...r].filter(([, a]) => running(a)).map(([s]) => s);
      assert.equal(reporters.length, 1, `cluster ${v.k}: exactly one survivor reports ${v.app} running: ${reporters.join(', ')}`);
    }
    // The powered-off members sent nothing after the loss.
    for (const v of victims) {
      const sent = (await ctl.admin.info(uuids.get(v.serial)!, { sinceMs: injectedAt + 1_000 })).length;
      assert.equal(sent, 0, `${v.serial} reported while powered off`);
    }
    assert.equal(await admin!.clearFault('power-loss'), KILLED);
    powered = victims.map((v) => v.serial);
  });

  void it('powered on again, the members boot from their checkpoint, rejoin and report READY again', async () => {
    assert.equal(powered.length, KILLED);
    const since = Date.now();
    await fleet!.until('no device powered off, all running', (s) => !s.faults['power-loss'] && s.byPhase.running === CLUSTERS * SIZE, 60_000);
    const victims = new Set(powered);
    // Back within the stats lease's 300 s (spec), a former leader keeps it (EVE); what every returning member sends is its node status.
    await waitFor('every powered-on member reports its node READY again', async () => {
      for (const serial of [...victims]) {
        const last = (await latest(uuids.get(serial)!, 'ZiNop')).at(-1);
        const status = (last?.info as { cluster_node?: { node_status?: string } } | undefined)?.cluster_node?.node_status;
        if (last && last.receivedAt > since && status === 'Z_INFO_CLUSTER_NODE_STATUS_READY') victims.delete(serial);
      }
      return victims.size === 0;
    }, 60_000, 1_000);
  });
});

void describe('fleet: clusters for another controller are written down, not applied', () => {
  let ctl: TestController;
  let fleet: FleetProcess | undefined;
  after(async () => {
    await fleet?.stop();
    await ctl?.dispose();
  });

  void it('without --controller-admin the fleet writes each cluster definition and its apps once all members run', async () => {
    ctl = await startTestController();
    const folder = await ctl.deviceFolder('fleet-cluster-specs');
    await ctl.admin.addOnboard(await readFile(path.join(folder, 'onboard.cert.pem'), 'utf8'), ['*']);
    const state = path.join(ctl.dir, 'fleet.db');
    const profile = path.join(ctl.dir, 'profile.yaml');
    const specs = path.join(ctl.dir, 'clusters.yaml');
    await writeFile(profile, 'clusters:\n  - count: 2\n    size: 3\n    workers: 1\n    apps: [{ name: db, affinity: required }]\n');
    fleet = startFleet(['--config-dir', folder, '--state', state, '--count', '7', '--serial-prefix', 'it-fs-', '--profile', profile, '--cluster-specs', specs, '--time-scale', '20']);
    await fleet.until('both clusters written', (s) => s.clusters?.requested === 2, 60_000);
    const uuids = stateUuids(state);
    const doc = parse(await readFile(specs, 'utf8')) as { clusters: { definition: ClusterSpec; members: string[]; apps: { designated_node_id: string; affinity: string }[] }[] };
    assert.deepEqual(doc.clusters.map((c) => c.members), [['it-fs-0', 'it-fs-1', 'it-fs-2'], ['it-fs-3', 'it-fs-4', 'it-fs-5']]);
    for (const c of doc.clusters) {
      assert.deepEqual(c.definition.members, [{ device: uuids.get(c.members[0]) }, { device: uuids.get(c.members[1]) }, { device: uuids.get(c.members[2]), isWorker: true }]);
      assert.deepEqual(c.apps.map((a) => [a.designated_node_id, a.affinity]), [[uuids.get(c.members[0]), 'AFFINITY_TYPE_REQUIRED']]);
    }
    assert.deepEqual(doc.clusters.map((c) => c.definition.prefix), ['10.0.0.0/24', '10.0.1.0/24']);
    // Nothing was applied: the controller has no cluster block in any config.
    for (const uuid of uuids.values()) {
      const cfg = await ctl.admin.getConfig(uuid).catch(() => undefined);
      assert.ok(!cfg?.config.cluster, `${uuid} got a cluster block`);
    }
    // The definition is what `controller cluster apply` takes: applying it by hand works.
    const r = await ctl.admin.applyCluster(doc.clusters[0].definition);
    assert.equal(r.members.length, 3);
  });
});
