/**
 * A scenario as data (`edgesim scenario run FILE.yaml`): the topology, then steps run one after the other — actions
 * on the controller side, faults, kills and partitions, and expectations with deadlines in spec time — and the
 * invariants checked throughout. Parsing is strict: an unknown key, a wrong type or a bad value is an error naming
 * the field (`steps[3].expect.within: …`) and nothing runs.
 */
import { parse as parseYaml } from 'yaml';
import { FAULT_KINDS, type FaultKind } from '../agent/faults.js';

/** The invariants a scenario may ask for (checked on every observation, and at the end for `eventually-ready` and `no-info-lost`). */
export const INVARIANTS = ['one-reporter-per-app', 'one-leader', 'eventually-ready', 'no-stale-cluster-address', 'no-info-lost'] as const;
export type Invariant = (typeof INVARIANTS)[number];

/** ZInfoClusterNode statuses, without the enum prefix. */
export const NODE_STATUSES = ['READY', 'NOTREADY', 'DOWN', 'UNKNOWN'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export interface Topology {
  /** Number of nodes, dev1…devN. */
  nodes: number;
  network: 'loopback' | 'netns' | 'auto';
  tpm: 'soft' | 'swtpm' | 'auto';
  /** Spec seconds per real second; every agent and stand-in timer is divided by it. */
  timeScale: number;
  /** Spec ms between config polls. */
  configIntervalMs: number;
  /** Apply the cluster and wait until it formed before the first step. */
  formCluster: boolean;
}

export type Expectation =
  | { kind: 'node-status'; node: number; status: NodeStatus; withinMs: number }
  | { kind: 'leader-sees'; node: number; ready: boolean; withinMs: number }
  | { kind: 'app-running'; app: string; on?: number; notOn?: number; withinMs: number }
  | { kind: 'all-ready'; withinMs: number }
  | { kind: 'cluster-address'; node: number; present: boolean; withinMs: number };

export type Action =
  | { kind: 'wait'; ms: number }
  | { kind: 'apply-cluster' }
  | { kind: 'rotate-token' }
  | { kind: 'deploy-app'; app: string; designated: number; affinity: 'preferred' | 'required' }
  | { kind: 'delete-app'; app: string }
  | { kind: 'bump-config'; count: number; everyMs: number; background: boolean }
  | { kind: 'to-single-node'; nodes: number[] }
  | { kind: 'kill'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'controller'; run: boolean }
  | { kind: 'fault'; node: number; fault: FaultKind; value?: number; durationMs?: number }
  | { kind: 'clear-fault'; node: number; fault: FaultKind }
  | { kind: 'partition'; node: number }
  | { kind: 'heal'; node: number }
  | { kind: 'chaos'; kills: number; seed: number; everyMs: number; downMs: number; nodes: number[] }
  /** kill -9 `node` (the app's host) and time the failover through a survivor's kube API (cluster.md §10). */
  | { kind: 'failover'; node: number; app: string; withinMs: number }
  | { kind: 'expect'; expect: Expectation };

export interface Step {
  /** Where it came from (`steps[3]`), for reports. */
  ref: string;
  /** Short text for the timeline. */
  label: string;
  action: Action;
}

export interface Scenario {
  name: string;
  description: string;
  topology: Topology;
  steps: Step[];
  invariants: Invariant[];
  /** Spec ms every node has to be READY in after the last step (`eventually-ready`). */
  settleMs: number;
}

/** A scenario file that does not parse: `field` is the path of the offending value. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, field: string): Obj {
  if (!isObj(v)) throw new ScenarioError(field, `expected a mapping, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

function onlyKeys(o: Obj, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ScenarioError(field ? `${field}.${k}` : k, `unknown key (expected one of ${allowed.join(', ')})`);
  }
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') throw new ScenarioError(field, `expected a non-empty string, got ${describe(v)}`);
  return v;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ScenarioError(field, `expected an integer from ${min} to ${max}, got ${describe(v)}`);
  }
  return v;
}

function oneOf<T extends string>(v: unknown, field: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) throw new ScenarioError(field, `expected one of ${values.join(', ')}, got ${describe(v)}`);
  return v as T;
}

/** `50s`, `10m`, `1.5s`, `500ms`, `1h`, or a number of seconds; returns ms (> 0 unless `zero`). */
export function durationMs(v: unknown, field: string, zero = false): number {
  let ms: number | undefined;
  if (typeof v === 'number' && Number.isFinite(v)) ms = v * 1000;
  else if (typeof v === 'string') {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
    if (m) ms = Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  if (ms === undefined || ms < 0 || (!zero && ms === 0)) {
    throw new ScenarioError(field, `expected a duration such as 50s, 10m or 500ms${zero ? '' : ' (more than 0)'}, got ${describe(v)}`);
  }
  return Math.round(ms);
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw new ScenarioError(field, `expected true or false, got ${describe(v)}`);
  return v;
}

/** Parses and checks a scenario file's text. @throws ScenarioError naming the field */
export function parseScenario(text: string): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true });
  } catch (e) {
    throw new ScenarioError('(file)', `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const root = obj(doc, '(file)');
  onlyKeys(root, '', ['name', 'description', 'topology', 'steps', 'invariants', 'settle']);
  const name = str(root.name, 'name');
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new ScenarioError('name', `expected lower-case letters, digits and dashes, got ${describe(name)}`);
  const topology = parseTopology(root.topology);
  const nodeRef = (v: unknown, field: string): number => {
    const s = str(v, field);
    const m = /^dev(\d+)$/.exec(s);
    const i = m ? Number(m[1]) - 1 : -1;
    if (i < 0 || i >= topology.nodes) throw new ScenarioError(field, `expected a node dev1…dev${topology.nodes}, got ${describe(v)}`);
    return i;
  };
  if (!Array.isArray(root.steps) || root.steps.length === 0) throw new ScenarioError('steps', `expected a non-empty list, got ${describe(root.steps)}`);
  const apps = new Set<string>();
  const steps = root.steps.map((raw, i) => parseStep(raw, `steps[${i}]`, { nodeRef, topology, apps }));
  const invariants = root.invariants === undefined ? [...INVARIANTS] : listOf(root.invariants, 'invariants', (v, f) => oneOf(v, f, INVARIANTS));
  return {
    name,
    description: root.description === undefined ? '' : str(root.description, 'description'),
    topology,
    steps,
    invariants,
    settleMs: root.settle === undefined ? 180_000 : durationMs(root.settle, 'settle'),
  };
}

function listOf<T>(v: unknown, field: string, item: (v: unknown, field: string) => T): T[] {
  if (!Array.isArray(v)) throw new ScenarioError(field, `expected a list, got ${describe(v)}`);
  return v.map((x, i) => item(x, `${field}[${i}]`));
}

function parseTopology(v: unknown): Topology {
  const t = obj(v ?? {}, 'topology');
  onlyKeys(t, 'topology', ['nodes', 'network', 'tpm', 'timeScale', 'configInterval', 'formCluster']);
  return {
    nodes: t.nodes === undefined ? 3 : int(t.nodes, 'topology.nodes', 1, 20),
    network: t.network === undefined ? 'loopback' : oneOf(t.network, 'topology.network', ['loopback', 'netns', 'auto'] as const),
    tpm: t.tpm === undefined ? 'soft' : oneOf(t.tpm, 'topology.tpm', ['soft', 'swtpm', 'auto'] as const),
    timeScale: t.timeScale === undefined ? 10 : int(t.timeScale, 'topology.timeScale', 1, 100),
    configIntervalMs: t.configInterval === undefined ? 10_000 : durationMs(t.configInterval, 'topology.configInterval'),
    formCluster: t.formCluster === undefined ? true : bool(t.formCluster, 'topology.formCluster'),
  };
}

interface StepContext {
  nodeRef: (v: unknown, field: string) => number;
  topology: Topology;
  apps: Set<string>;
}

const ACTIONS = [
  'wait', 'applyCluster', 'rotateToken', 'deployApp', 'deleteApp', 'bumpConfig', 'toSingleNode', 'kill', 'restart', 'controller', 'fault',
  'clearFault', 'partition', 'heal', 'chaos', 'failover', 'expect',
] as const;

function parseStep(raw: unknown, field: string, c: StepContext): Step {
  const o = obj(raw, field);
  onlyKeys(o, field, ACTIONS);
  const keys = Object.keys(o);
  if (keys.length !== 1) throw new ScenarioError(field, `expected exactly one action (${ACTIONS.join(', ')}), got ${keys.length ? keys.join(' and ') : 'none'}`);
  const key = keys[0] as (typeof ACTIONS)[number];
  const v = o[key];
  const f = `${field}.${key}`;
  const node = (x: unknown, ff: string): number => c.nodeRef(x, ff);
  const action = ((): Action => {
    switch (key) {
      case 'wait':
        return { kind: 'wait', ms: durationMs(v, f) };
      case 'applyCluster':
        if (v !== true) throw new ScenarioError(f, `expected true, got ${describe(v)}`);
        return { kind: 'apply-cluster' };
      case 'rotateToken':
        if (v !== true) throw new ScenarioError(f, `expected true, got ${describe(v)}`);
        return { kind: 'rotate-token' };
      case 'deployApp': {
        const a = obj(v, f);
        onlyKeys(a, f, ['name', 'designated', 'affinity']);
        const app = str(a.name, `${f}.name`);
        if (c.apps.has(app)) throw new ScenarioError(`${f}.name`, `app "${app}" is deployed twice`);
        c.apps.add(app);
        return {
          kind: 'deploy-app',
          app,
          designated: node(a.designated, `${f}.designated`),
          affinity: a.affinity === undefined ? 'preferred' : oneOf(a.affinity, `${f}.affinity`, ['preferred', 'required'] as const),
        };
      }
      case 'deleteApp': {
        const app = str(v, f);
        if (!c.apps.has(app)) throw new ScenarioError(f, `no app "${app}" was deployed before this step`);
        return { kind: 'delete-app', app };
      }
      case 'bumpConfig': {
        const a = obj(v ?? {}, f);
        onlyKeys(a, f, ['count', 'every', 'background']);
        return {
          kind: 'bump-config',
          count: a.count === undefined ? 1 : int(a.count, `${f}.count`, 1, 10_000),
          everyMs: a.every === undefined ? 5_000 : durationMs(a.every, `${f}.every`),
          background: a.background === undefined ? false : bool(a.background, `${f}.background`),
        };
      }
      case 'toSingleNode':
        return { kind: 'to-single-node', nodes: v === 'all' ? Array.from({ length: c.topology.nodes }, (_, i) => i) : listOf(v, f, node) };
      case 'kill':
        return { kind: 'kill', node: node(v, f) };
      case 'restart':
        return { kind: 'restart', node: node(v, f) };
      case 'controller':
        return { kind: 'controller', run: oneOf(v, f, ['stop', 'start'] as const) === 'start' };
      case 'fault': {
        const a = obj(v, f);
        onlyKeys(a, f, ['node', 'kind', 'value', 'duration']);
        const fault = oneOf(a.kind, `${f}.kind`, FAULT_KINDS);
        if (fault === 'cluster-interface-down' && c.topology.network === 'loopback') {
          throw new ScenarioError(`${f}.kind`, 'cluster-interface-down needs topology.network netns (on loopback it would take lo down)');
        }
        return {
          kind: 'fault',
          node: node(a.node, `${f}.node`),
          fault,
          ...(a.value !== undefined ? { value: int(a.value, `${f}.value`, 0, 2 ** 31) } : {}),
          ...(a.duration !== undefined ? { durationMs: durationMs(a.duration, `${f}.duration`) } : {}),
        };
      }
      case 'clearFault': {
        const a = obj(v, f);
        onlyKeys(a, f, ['node', 'kind']);
        return { kind: 'clear-fault', node: node(a.node, `${f}.node`), fault: oneOf(a.kind, `${f}.kind`, FAULT_KINDS) };
      }
      case 'partition':
      case 'heal':
        if (c.topology.network === 'loopback') throw new ScenarioError(f, 'a partition needs topology.network netns (or auto as root)');
        return { kind: key, node: node(v, f) };
      case 'chaos': {
        const a = obj(v, f);
        onlyKeys(a, f, ['kills', 'seed', 'every', 'down', 'nodes']);
        return {
          kind: 'chaos',
          kills: int(a.kills, `${f}.kills`, 1, 100_000),
          seed: int(a.seed, `${f}.seed`, 0, 2 ** 32 - 1),
          everyMs: a.every === undefined ? 10_000 : durationMs(a.every, `${f}.every`),
          downMs: a.down === undefined ? 0 : durationMs(a.down, `${f}.down`, true),
          nodes: a.nodes === undefined ? Array.from({ length: c.topology.nodes }, (_, i) => i) : listOf(a.nodes, `${f}.nodes`, node),
        };
      }
      case 'failover': {
        const a = obj(v, f);
        onlyKeys(a, f, ['kill', 'app', 'within']);
        const app = str(a.app, `${f}.app`);
        if (!c.apps.has(app)) throw new ScenarioError(`${f}.app`, `no app "${app}" was deployed before this step`);
        if (c.topology.nodes < 2) throw new ScenarioError(f, 'a failover needs at least 2 nodes (topology.nodes)');
        return { kind: 'failover', node: node(a.kill, `${f}.kill`), app, withinMs: a.within === undefined ? 300_000 : durationMs(a.within, `${f}.within`) };
      }
      case 'expect':
        return { kind: 'expect', expect: parseExpectation(v, f, c) };
    }
  })();
  return { ref: field, label: stepLabel(key, v), action };
}

function stepLabel(key: string, v: unknown): string {
  const text = (x: unknown): string => (Array.isArray(x) ? x.map(text).join(',') : typeof x === 'object' && x !== null ? JSON.stringify(x) : String(x));
  if (v === true || v === undefined || v === null) return key;
  if (!isObj(v)) return `${key} ${text(v)}`;
  return `${key} ${Object.entries(v).map(([k, x]) => `${k}=${text(x)}`).join(' ')}`;
}

function parseExpectation(v: unknown, f: string, c: StepContext): Expectation {
  const e = obj(v, f);
  const withinMs = durationMs(e.within, `${f}.within`);
  if ('reports' in e) {
    onlyKeys(e, f, ['node', 'reports', 'within']);
    return { kind: 'node-status', node: c.nodeRef(e.node, `${f}.node`), status: oneOf(e.reports, `${f}.reports`, NODE_STATUSES), withinMs };
  }
  if ('leaderSees' in e) {
    onlyKeys(e, f, ['leaderSees', 'as', 'within']);
    return { kind: 'leader-sees', node: c.nodeRef(e.leaderSees, `${f}.leaderSees`), ready: oneOf(e.as, `${f}.as`, ['Ready', 'NotReady'] as const) === 'Ready', withinMs };
  }
  if ('app' in e) {
    onlyKeys(e, f, ['app', 'runningOn', 'notOn', 'within']);
    const app = str(e.app, `${f}.app`);
    if (!c.apps.has(app)) throw new ScenarioError(`${f}.app`, `no app "${app}" was deployed before this step`);
    return {
      kind: 'app-running',
      app,
      ...(e.runningOn !== undefined && e.runningOn !== 'any' ? { on: c.nodeRef(e.runningOn, `${f}.runningOn`) } : {}),
      ...(e.notOn !== undefined ? { notOn: c.nodeRef(e.notOn, `${f}.notOn`) } : {}),
      withinMs,
    };
  }
  if ('allReady' in e) {
    onlyKeys(e, f, ['allReady', 'within']);
    if (e.allReady !== true) throw new ScenarioError(`${f}.allReady`, `expected true, got ${describe(e.allReady)}`);
    return { kind: 'all-ready', withinMs };
  }
  if ('clusterAddress' in e) {
    onlyKeys(e, f, ['node', 'clusterAddress', 'within']);
    const present = oneOf(e.clusterAddress, `${f}.clusterAddress`, ['present', 'none'] as const) === 'present';
    return { kind: 'cluster-address', node: c.nodeRef(e.node, `${f}.node`), present, withinMs };
  }
  throw new ScenarioError(f, 'expected one of: node+reports, leaderSees+as, app (+runningOn/notOn), allReady, node+clusterAddress');
}
