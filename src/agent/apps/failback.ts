/**
 * Failback on boot (cluster.md §11, zedkube/descheduler.go), only when the config item
 * `kubernetes.vmi.deschedule.events` contains `boot`: once this node is Ready and schedulable after a start, pods
 * of PREFERRED apps that run away from their Ready, schedulable designated node are evicted (the descheduler's
 * RemovePodsViolatingNodeAffinity); the ReplicaSet's new pod lands at home.
 */
import { errorMessage } from '../../common/index.js';
import { isKubeError, LABEL_NODE_UUID, type KubeClient, type KubeNodeStatus, type KubePodStatus } from '../../k3s/index.js';
import type { AppConfig, DeviceConfig } from '../parse-config.js';
import type { ActionContext, PassView } from './workload-actions.js';
import { LABEL_APP_UUID } from './workload.js';

/** Config item that enables the descheduler on boot when it contains `boot` (cluster.md §11). */
const DESCHEDULE_EVENTS_ITEM = 'kubernetes.vmi.deschedule.events';

/** Whether the config asks for failback on boot. */
export function descheduleOnBoot(cfg: DeviceConfig): boolean {
  return (cfg.configItems.get(DESCHEDULE_EVENTS_ITEM) ?? '').split(/[,\s]+/).includes('boot');
}

/**
 * Pods to evict for failback: live pods of PREFERRED apps bound to a node other than their designated node while
 * that node (found by its `node-uuid` label) is Ready and schedulable. REQUIRED apps never moved; apps without a
 * designated node have no home.
 */
export function failbackEvictions(apps: AppConfig[], pods: KubePodStatus[], nodes: KubeNodeStatus[]): { appId: string; pod: string; home: string }[] {
  const out: { appId: string; pod: string; home: string }[] = [];
  for (const app of apps) {
    if (app.affinity !== 'preferred' || !app.designatedNodeId) continue;
    const home = nodes.find((n) => n.labels[LABEL_NODE_UUID] === app.designatedNodeId && n.ready === 'True' && n.schedulable);
    if (!home) continue;
    for (const p of pods) {
      if (p.labels[LABEL_APP_UUID] === app.uuid && !p.deletionTimestamp && p.nodeName && p.nodeName !== home.name) {
        out.push({ appId: app.uuid, pod: p.name, home: home.name });
      }
    }
  }
  return out;
}

/**
 * Evicts the failback pods once this node (`nodeName`) is Ready and schedulable; returns whether it did (false:
 * not yet, try again next pass). A failed eviction is logged, not retried (the descheduler runs once per boot).
 */
export async function failbackOnBoot(c: ActionContext, kube: KubeClient, cfg: DeviceConfig, nodeName: string, view: PassView): Promise<boolean> {
  const nodes = await view.nodes();
  const self = nodes.find((n) => n.name === nodeName);
  if (self?.ready !== 'True' || !self.schedulable) return false;
  for (const p of failbackEvictions(cfg.apps, view.pods, nodes)) {
    try {
      await kube.deletePod(p.pod, {}, c.signal);
      c.log.info('pod evicted for failback on boot', { appId: p.appId, pod: p.pod, to: p.home });
      c.emit('app.failback', `pod ${p.pod} evicted: back to ${p.home}`, { appId: p.appId, pod: p.pod });
    } catch (e) {
      if (!isKubeError(e, 'NOT_FOUND')) c.log.warn('failback eviction failed', { pod: p.pod, error: errorMessage(e) });
    }
  }
  return true;
}
