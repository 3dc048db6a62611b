/**
 * Runs a planned scenario on the demo's machinery (DemoCluster): forms the cluster, executes the steps one after the
 * other, waits for each expectation up to its deadline (spec time ÷ time scale), checks the invariants throughout,
 * and returns the timeline with a verdict. It never throws for a failed expectation — that is a result — only for
 * a cluster that could not start.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Clock, Logger } from '../common/index.js';
import { createClock, errorMessage } from '../common/index.js';
import { AdminClient } from '../agent/admin/index.js';
import { DemoCluster } from '../demo/demo-cluster.js';
import { failoverSummary, failoverTimelineRecord, type FailoverResult } from '../demo/failover.js';
import { recordFailoverTimeline } from '../demo/failover-timeline.js';
import { appConfigJson } from '../controller/index.js';
import { toK8sNodeName } from '../k3s/index.js';
import { allReady, checkExpectation, concurrentLeaders, doubleReporters, Observation, staleAddresses, type CheckResult, type NodeFacts } from './observe.js';
import { queuedInfos, type InfoLedger, type ProducedInfo } from './info-ledger.js';
import { planScenario, type PlannedAction, type PlannedStep } from './plan.js';
import type { Invariant, Scenario } from './spec.js';

/** What a `failover` step saw (the app, its killed host, the timeline), and which step it was. */
export interface FailoverRecord extends FailoverResult {
  ref: string;
}

export interface RunOptions {
  /** Keeps logs and state here (the caller removes it). */
  workDir: string;
  selfCommand: string[];
  pathEnv: string;
  /** Progress lines (stderr in the CLI). */
  onProgress?: (line: string) => void;
  /** Called once the cluster's processes run (the demo shows its live table from it). */
  onStarted?: (cluster: DemoCluster) => void;
  /** Called once with the dashboard URL when the controller is up. */
  onDashboard?: (url: string) => void;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
}

export type StepOutcome = 'passed' | 'failed' | 'skipped';

/** One line of the timeline. */
export interface StepResult {
  ref: string;
  label: string;
  outcome: StepOutcome;
  /** Real ms from the scenario's t0 (cluster formed) to the step's start and end. */
  startMs: number;
  endMs: number;
  /** The same in spec time (× time scale). */
  specStartMs: number;
  specEndMs: number;
  detail: string;
}

export interface InvariantResult {
  invariant: Invariant;
  held: boolean;
  /** The first violation (or the final check's finding). */
  detail: string;
}

export interface ScenarioResult {
  name: string;
  passed: boolean;
  network: 'loopback' | 'netns';
  timeScale: number;
  /** Real ms the cluster took to form (before t0), when the scenario forms it. */
  formedAfterMs?: number;
  steps: StepResult[];
  invariants: InvariantResult[];
  /** The failover steps' timelines (cluster.md §10), in step order. */
  failovers: FailoverRecord[];
  /** chaos: kills done, and how many of the killed nodes reported READY again afterwards. */
  chaos?: { kills: number; survived: number };
  /** A failure outside the steps (the cluster did not start or form). */
  error?: string;
  workDir: string;
}

/** Real ms an invariant violation must persist before it counts (a report in flight across a change is not one). */
const VIOLATION_GRACE_SPEC_MS = 20_000;
/** How far back `one-leader` looks for alternating leaders: four of EVE's 30 s stats collections. */
const LEADER_WINDOW_SPEC_MS = 120_000;
/** Real ms between observations. */
const TICK_MS = 250;
/** Real ms before an agent's watch stream is opened again. */
const WATCH_RETRY_MS = 100;

/** The app's UUID, derived from its name (a rerun against the same controller data names the same app). */
export function appUuid(name: string): string {
  const h = createHash('sha256').update(`edgesim-scenario-app:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export async function runScenario(s: Scenario, o: RunOptions): Promise<ScenarioResult> {
  const plan = planScenario(s);
  const scale = s.topology.timeScale;
  const real = (specMs: number): number => specMs / scale;
  const log = o.logger.child({ component: 'scenario', scenario: s.name });
  const progress = (line: string): void => o.onProgress?.(line);
  const steps: StepResult[] = [];
  const result: ScenarioResult = { name: s.name, passed: false, network: 'loopback', timeScale: scale, steps, invariants: [], failovers: [], workDir: o.workDir };
  const apps = new Map<string, string>();
  const deployments = new Map<string, Extract<PlannedAction, { kind: 'deploy-app' }>>();
  let cluster: DemoCluster | undefined;
  const background: Array<Promise<void>> = [];
  const stopTicks = new AbortController();
  const configLock = new Lock();
  try {
    const started = performance.now();
    progress(`scenario ${s.name}: starting ${s.topology.nodes} nodes (time scale ${scale})`);
    cluster = await DemoCluster.start({
      nodes: s.topology.nodes,
      timeScale: scale,
      tpm: s.topology.tpm,
      netns: s.topology.network === 'loopback' ? 'off' : s.topology.network === 'netns' ? 'on' : 'auto',
      configIntervalS: s.topology.configIntervalMs / 1000 / scale,
      workDir: o.workDir,
      selfCommand: o.selfCommand,
      pathEnv: o.pathEnv,
      timeoutMs: Math.max(180_000, real(s.settleMs)),
      ...(o.onDashboard ? { onDashboard: o.onDashboard } : {}),
      clock: o.clock,
      logger: o.logger,
      signal: o.signal,
    });
    const c = cluster;
    result.network = c.network;
    o.onStarted?.(c);
    const facts: NodeFacts[] = c.nodes.map((x) => ({ uuid: x.uuid, clusterIp: undefined, down: false, freshSinceMs: 0 }));
    const obs = new Observation(c.nodes.length);
    const refresh = (): Promise<void> => obs.refresh(c.controllerRunning ? c.admin : undefined, facts.map((f) => f.uuid));
    const applyCluster = (): Promise<void> =>
      configLock.run(async () => {
        await c.applyCluster();
        c.nodes.forEach((_, i) => (facts[i].clusterIp = c.net.clusterIp(i)));
      });

    if (s.topology.formCluster) {
      await applyCluster();
      await waitFor(o, Math.max(180_000, real(s.settleMs)), async () => (await refresh(), allReady(obs, facts)), 'the cluster formed').then((r) => {
        if (!r.held) throw new Error(`the cluster did not form within ${Math.round(Math.max(180_000, real(s.settleMs)) / 1000)} s real: ${r.seen}`);
      });
      result.formedAfterMs = performance.now() - started;
      progress(`cluster formed after ${(result.formedAfterMs / 1000).toFixed(1)} s; running ${plan.length} steps`);
    }
    const t0 = performance.now();
    const at = (): number => performance.now() - t0;

    // Invariants throughout: a violation counts once it has persisted for the grace period.
    const firstSeen = new Map<string, number>();
    const violations = new Map<Invariant, string>();
    const watch = (inv: Invariant, found: string[]): void => {
      if (!s.invariants.includes(inv)) return;
      const now = at();
      for (const key of [...firstSeen.keys()]) if (key.startsWith(`${inv}:`) && !found.some((f) => `${inv}:${f}` === key)) firstSeen.delete(key);
      for (const f of found) {
        const since = firstSeen.get(`${inv}:${f}`) ?? now;
        firstSeen.set(`${inv}:${f}`, since);
        if (now - since >= real(VIOLATION_GRACE_SPEC_MS) && !violations.has(inv)) {
          violations.set(inv, `${f} (from ${(since / 1000).toFixed(1)} s real / ${((since * scale) / 1000).toFixed(0)} s spec)`);
          log.warn('invariant violated', { invariant: inv, detail: f });
        }
      }
    };
    // no-info-lost: what every agent produces, from its watch stream (re-subscribed after each restart).
    const watchers = s.invariants.includes('no-info-lost') ? c.nodes.map((_, i) => watchProduced(c, i, obs.infos, o.clock, stopTicks.signal)) : [];
    const ticker = (async () => {
      while (!stopTicks.signal.aborted) {
        await refresh().catch(() => undefined);
        watch('one-reporter-per-app', doubleReporters(obs, facts, apps));
        watch('one-leader', concurrentLeaders(obs, facts, Date.now(), real(LEADER_WINDOW_SPEC_MS)));
        watch('no-stale-cluster-address', staleAddresses(obs, facts));
        await o.clock.sleepReal(TICK_MS, stopTicks.signal).catch(() => undefined);
      }
    })();

    let chaosKills = 0;
    const chaosRestarts: Array<{ node: number; atMs: number }> = [];
    let failed = false;
    for (const step of plan) {
      if (o.signal.aborted) break;
      const startMs = at();
      const record = (outcome: StepOutcome, detail: string): void => {
        const endMs = at();
        steps.push({ ref: step.ref, label: step.label, outcome, startMs, endMs, specStartMs: startMs * scale, specEndMs: endMs * scale, detail });
        if (outcome !== 'skipped' && !step.ref.includes('.chaos#')) progress(`${outcome === 'passed' ? 'ok  ' : 'FAIL'} ${(startMs / 1000).toFixed(1)} s  ${step.label}${detail ? ` — ${detail}` : ''}`);
      };
      if (failed) {
        record('skipped', 'an earlier step failed');
        continue;
      }
      try {
        const detail = await execute(step, { c, facts, obs, apps, deployments, failovers: result.failovers, scale, refresh, applyCluster, configLock, background, o, real, at });
        if (step.chaosKill) chaosKills++;
        if (step.action.kind === 'restart' && step.ref.includes('.chaos#')) chaosRestarts.push({ node: step.action.node, atMs: Date.now() });
        record('passed', detail);
      } catch (e) {
        failed = true;
        record('failed', errorMessage(e));
      }
    }
    await Promise.all(background);
    const settleEnd = performance.now() + real(s.settleMs);

    // eventually-ready: after the last fault, every clustered node READY within the settle time.
    let finalReady: CheckResult | undefined;
    if (!failed && s.invariants.includes('eventually-ready') && facts.some((f) => f.clusterIp !== undefined)) {
      finalReady = await waitFor(o, real(s.settleMs), async () => (await refresh(), allReady(obs, facts)), 'every node READY');
    }
    // no-info-lost: by the end of settle, the controller holds the newest info of every object of every live node.
    let infosKept: CheckResult | undefined;
    if (!failed && s.invariants.includes('no-info-lost')) {
      infosKept = await waitFor(o, Math.max(0, settleEnd - performance.now()), async () => (await refresh(), infosStored(obs, facts)), 'every newest info stored');
    }
    stopTicks.abort();
    await Promise.all([ticker, ...watchers]);
    if (chaosKills > 0) {
      // A kill survived when the node reported READY after its restart.
      const survived = chaosRestarts.filter((r) => obs.nodes[r.node].statuses.some((x) => x.value === 'READY' && x.at >= r.atMs)).length;
      result.chaos = { kills: chaosKills, survived };
    }
    result.invariants = s.invariants.map((inv) => {
      if (inv === 'eventually-ready') {
        if (!finalReady) return { invariant: inv, held: !failed, detail: failed ? 'not checked: a step failed' : 'no clustered node' };
        return { invariant: inv, held: finalReady.held, detail: finalReady.seen };
      }
      if (inv === 'no-info-lost') {
        if (!infosKept) return { invariant: inv, held: false, detail: 'not checked: a step failed' };
        return { invariant: inv, held: infosKept.held, detail: infosKept.seen };
      }
      const v = violations.get(inv);
      return { invariant: inv, held: v === undefined, detail: v ?? 'held throughout' };
    });
    result.passed = !failed && steps.every((x) => x.outcome === 'passed') && result.invariants.every((x) => x.held) && !o.signal.aborted;
    return result;
  } catch (e) {
    result.error = errorMessage(e);
    return result;
  } finally {
    stopTicks.abort();
    await Promise.allSettled(background);
    await cluster?.stop();
  }
}

interface ExecContext {
  c: DemoCluster;
  facts: NodeFacts[];
  obs: Observation;
  apps: Map<string, string>;
  deployments: Map<string, Extract<PlannedAction, { kind: 'deploy-app' }>>;
  failovers: FailoverRecord[];
  scale: number;
  refresh: () => Promise<void>;
  applyCluster: () => Promise<void>;
  /** Serialises read-modify-write of the nodes' configs (config churn in the background, cluster apply). */
  configLock: Lock;
  background: Array<Promise<void>>;
  o: RunOptions;
  real: (specMs: number) => number;
  at: () => number;
}

/** Runs one step; returns a detail for the timeline, throws when the step failed. */
async function execute(step: PlannedStep, x: ExecContext): Promise<string> {
  const { c, facts, o, real } = x;
  const a: PlannedAction = step.action;
  switch (a.kind) {
    case 'wait':
      await o.clock.sleepReal(real(a.ms), o.signal);
      return '';
    case 'apply-cluster':
      await x.applyCluster();
      return '';
    case 'rotate-token': {
      await x.configLock.run(() => c.applyCluster({ rotateToken: true }));
      // Every member restarts k3s with the new token and reports its node status again: earlier ones no longer count.
      const now = Date.now();
      for (const f of facts) if (f.clusterIp !== undefined) f.statusFreshSinceMs = now;
      return 'a new cluster token in every member config';
    }
    case 'deploy-app': {
      const uuid = appUuid(a.app);
      x.apps.set(a.app, uuid);
      x.deployments.set(a.app, a);
      await editConfigs(c, x.configLock, (cfg) => ({ ...cfg, apps: [...((cfg.apps as unknown[]) ?? []), appConfigJson({ uuid, name: a.app }, facts[a.designated].uuid, a.affinity)] }), o.signal);
      return `app ${uuid} deployed to every node's config`;
    }
    case 'delete-app': {
      const uuid = x.apps.get(a.app)!;
      await editConfigs(c, x.configLock, (cfg) => ({ ...cfg, apps: ((cfg.apps as Array<{ uuidandversion?: { uuid?: string } }>) ?? []).filter((p) => p.uuidandversion?.uuid !== uuid) }), o.signal);
      return '';
    }
    case 'bump-config': {
      const run = async (): Promise<void> => {
        for (let k = 0; k < a.count; k++) {
          if (k > 0) await o.clock.sleepReal(real(a.everyMs), o.signal);
          await editConfigs(c, x.configLock, (cfg) => ({ ...cfg, configItems: bumpItem(cfg.configItems) }), o.signal);
        }
      };
      if (!a.background) {
        await run();
        return `${a.count} config version(s) per node`;
      }
      x.background.push(run().catch((e: unknown) => o.logger.warn('config churn stopped', { error: errorMessage(e) })));
      return `${a.count} config versions per node, in the background`;
    }
    case 'to-single-node':
      await x.configLock.run(async () => {
        for (const i of a.nodes) {
          const cur = ((await c.admin.getConfig(facts[i].uuid, o.signal)).config ?? {});
          await c.admin.setConfig(facts[i].uuid, { ...cur, cluster: null }, o.signal);
          facts[i].clusterIp = undefined;
          facts[i].freshSinceMs = Date.now();
        }
      });
      return '';
    case 'kill': {
      const queued = await kill(x, a.node);
      return queued ? `${queued} info(s) queued on disk` : '';
    }
    case 'failover':
      return failover(step, a, x);
    case 'restart':
      c.restartNode(a.node);
      facts[a.node].down = false;
      facts[a.node].freshSinceMs = Date.now();
      return '';
    case 'controller':
      if (a.run) await c.startController();
      else await c.stopController();
      return '';
    case 'fault':
    case 'partition':
      await withAgent(c, a.node, (ag) =>
        ag.injectFault({
          kind: a.kind === 'partition' ? 'cluster-interface-down' : a.fault,
          ...(a.kind === 'fault' && a.value !== undefined ? { value: a.value } : {}),
          ...(a.kind === 'fault' && a.durationMs !== undefined ? { durationMs: a.durationMs } : {}),
        }),
      );
      if (a.kind === 'partition') facts[a.node].down = true;
      return '';
    case 'clear-fault':
    case 'heal':
      await withAgent(c, a.node, (ag) => ag.clearFault(a.kind === 'heal' ? 'cluster-interface-down' : a.fault));
      // A healed node's reports stay valid: it reports on change, and it may not have changed (it was never stopped).
      if (a.kind === 'heal') facts[a.node].down = false;
      return '';
    case 'expect': {
      const since = Date.now();
      const r = await waitFor(o, real(a.expect.withinMs), async () => {
        await x.refresh();
        return checkExpectation(a.expect, x.obs, facts, since, (name) => x.apps.get(name) ?? appUuid(name));
      }, step.label);
      if (!r.held) throw new Error(`not within ${a.expect.withinMs / 1000} s spec (${(real(a.expect.withinMs) / 1000).toFixed(1)} s real): ${r.seen}`);
      return r.seen;
    }
  }
}

/** kill -9 of node i (agent and k3s); returns how many undelivered infos its on-disk queue holds. */
async function kill(x: ExecContext, i: number): Promise<number> {
  await x.c.killNode(i);
  x.facts[i].down = true;
  // What it produced and had not delivered is on disk: it must arrive after the restart (no-info-lost).
  const queued = await queuedInfos(path.join(x.c.nodes[i].dir, 'state', 'queue'));
  for (const p of queued) x.obs.infos.produce(i, p, true);
  return queued.length;
}

const k8sName = (c: DemoCluster, i: number): string => toK8sNodeName(`edge-${c.nodes[i].name}`);

/**
 * Kills the app's host and records the failover timeline through a survivor's kube API and the controller's ZInfoApp
 * reports; hands it to the dashboard; fails unless every step was seen within the step's time.
 */
async function failover(step: PlannedStep, a: Extract<PlannedAction, { kind: 'failover' }>, x: ExecContext): Promise<string> {
  const { c, facts, o } = x;
  const uuid = x.apps.get(a.app)!;
  const survivor = facts.findIndex((f, i) => i !== a.node && !f.down);
  if (survivor < 0) throw new Error(`no live node besides dev${a.node + 1} to watch the failover from`);
  const lostNode = k8sName(c, a.node);
  const timeline = await recordFailoverTimeline({
    kube: await c.kube(survivor),
    appUuid: uuid,
    lostNode,
    kill: async () => {
      await kill(x, a.node);
    },
    reporter: async () => {
      await x.refresh();
      const on = x.obs.runningOn(uuid, facts);
      return on.length ? k8sName(c, on[0]) : undefined;
    },
    lostReporter: lostNode,
    // The agents' clock: the timeline reports spec time with it.
    clock: createClock(x.scale),
    timeoutMs: a.withinMs,
    signal: o.signal,
  });
  const d = x.deployments.get(a.app);
  const record: FailoverRecord = {
    ref: step.ref,
    app: { uuid, name: a.app, designatedNode: d ? k8sName(c, d.designated) : lostNode, designatedUuid: facts[d?.designated ?? a.node].uuid, affinity: d?.affinity ?? 'preferred' },
    lostNode,
    timeline,
  };
  x.failovers.push(record);
  c.recordTimeline(failoverTimelineRecord(record));
  const seen = failoverSummary(timeline);
  if (!timeline.complete) throw new Error(`not complete within ${a.withinMs / 1000} s spec: ${seen}`);
  return seen;
}

/** Polls `check` until it holds or `timeoutMs` real passes; returns the last result. */
async function waitFor(o: RunOptions, timeoutMs: number, check: () => Promise<CheckResult>, what: string): Promise<CheckResult> {
  const deadline = performance.now() + timeoutMs;
  let last: CheckResult = { held: false, seen: `nothing seen yet (${what})` };
  for (;;) {
    try {
      last = await check();
    } catch (e) {
      last = { held: false, seen: errorMessage(e) };
    }
    if (last.held || performance.now() >= deadline || o.signal.aborted) return last;
    await o.clock.sleepReal(Math.min(TICK_MS, Math.max(0, deadline - performance.now())), o.signal).catch(() => undefined);
  }
}

/** Rewrites every node's config on the controller (each gets a new version). */
async function editConfigs(c: DemoCluster, lock: Lock, edit: (cfg: Record<string, unknown>) => Record<string, unknown>, signal: AbortSignal): Promise<void> {
  await lock.run(async () => {
    for (const n of c.nodes) {
      const cur = ((await c.admin.getConfig(n.uuid, signal)).config ?? {});
      await c.admin.setConfig(n.uuid, edit(cur), signal);
    }
  });
}

/** One holder at a time, in call order. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** The churn item: a config item the agent carries but no timer reads, bumped by one. */
function bumpItem(items: unknown): Array<{ key: string; value: string }> {
  const list = ((items as Array<{ key: string; value: string }> | undefined) ?? []).filter((i) => i.key !== 'edgesim.scenario.bump');
  const prev = ((items as Array<{ key: string; value: string }> | undefined) ?? []).find((i) => i.key === 'edgesim.scenario.bump');
  return [...list, { key: 'edgesim.scenario.bump', value: String(Number(prev?.value ?? 0) + 1) }];
}

async function withAgent<T>(c: DemoCluster, i: number, call: (a: AdminClient) => Promise<T>): Promise<T> {
  const a = new AdminClient(c.adminSocket(i));
  try {
    return await call(a);
  } finally {
    a.close();
  }
}

/** `no-info-lost` at this moment, over the nodes that are up (a node still down cannot deliver its queue). */
function infosStored(obs: Observation, facts: NodeFacts[]): CheckResult {
  const live = facts.flatMap((f, i) => (f.down ? [] : [i]));
  const down = facts.flatMap((f, i) => (f.down ? [`dev${i + 1}`] : []));
  const lost = obs.infos.lost(live);
  const unchecked = down.length ? `; not checked (down at the end): ${down.join(', ')}` : '';
  if (lost.length === 0) return { held: true, seen: `the newest info of each of ${obs.infos.producedCount(live)} objects stored${unchecked}` };
  const shown = lost.slice(0, 5).map((l) => `dev${l.node + 1} ${l.info.queueKey} (${l.info.objectKey}, made ${new Date(l.info.madeAt).toISOString()})`);
  return { held: false, seen: `${lost.length} newest info(s) not stored: ${shown.join('; ')}${lost.length > 5 ? '; …' : ''}${unchecked}` };
}

/**
 * Follows node i's `info.queued` events into the ledger until `signal`; reconnects while the agent is down or
 * restarting (what it produces before the stream is back and delivers meanwhile is not seen — no false loss).
 */
async function watchProduced(c: DemoCluster, i: number, ledger: InfoLedger, clock: Clock, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const a = new AdminClient(c.adminSocket(i));
    try {
      for await (const ev of a.watch(['info.queued'], signal)) {
        const f = JSON.parse(ev.fieldsJson || '{}') as Partial<ProducedInfo> & { key?: string };
        if (typeof f.objectKey === 'string' && typeof f.fingerprint === 'string' && typeof f.madeAt === 'number') {
          ledger.produce(i, { queueKey: f.key ?? '', objectKey: f.objectKey, fingerprint: f.fingerprint, madeAt: f.madeAt });
        }
      }
    } catch {
      // No agent listening (killed, restarting): try again.
    } finally {
      a.close();
    }
    await clock.sleepReal(WATCH_RETRY_MS, signal).catch(() => undefined);
  }
}
