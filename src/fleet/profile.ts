/**
 * A fleet profile (`--profile FILE`, YAML): what mix of devices the fleet simulates. Strict: an unknown key is an
 * error naming it, so a typo never silently simulates a different fleet. Sections (each optional):
 *
 *   hardware:            # models, by fraction of the fleet (the rest reports the default model)
 *     - fraction: 0.6
 *       manufacturer: Supermicro
 *       productName: SYS-E100-9AP
 *       ncpu: 4
 *       memoryMB: 8192
 *   faults:              # the agent's fault catalogue (src/agent/faults.ts), each on a fraction of the fleet
 *     - kind: controller-delay
 *       fraction: 0.1
 *       value: 2000      # kind-specific: ms for controller-delay and clock-skew, HTTP status for controller-5xx
 *       duration: 5m     # optional: clears by itself (spec time); absent = the whole run
 *   churn:
 *     rebootsPerHour: 0.5   # per device, spec time: a device restarts from its checkpoint
 *   clockSkew:
 *     - fraction: 0.05
 *       ms: -30000
 *   clusters:            # edge-node cluster groups (fleet-clusters.ts): `count` clusters of this shape
 *     - count: 50
 *       size: 3          # members (the first is the bootstrap server)
 *       workers: 0       # how many of them join as worker (agent) nodes, the last ones
 *       tieBreaker: false  # the last member is the cluster's tie-breaker node (cluster.md §12)
 *       apps:            # apps of every cluster, designated round-robin to its server members
 *         - name: web
 *           affinity: preferred   # or required
 *
 * New sections are added as keys of their own; a file written for an earlier version stays valid.
 * Assignment is a pure function of the serials: each entry takes exactly round(fraction · n) devices, ranked by a
 * hash of (serial, section, entry), so a restarted shard gives every device the same traits.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { errorMessage } from '../common/index.js';
import { FAULT_KINDS, type FaultKind } from '../agent/index.js';
import { parseDuration } from '../agent/admin/index.js';

/** A hardware model as ZInfoDevice reports it. */
export interface HardwareModel {
  manufacturer: string;
  productName: string;
  ncpu?: number;
  memoryMB?: number;
  storageMB?: number;
}

export interface ProfileFault {
  kind: FaultKind;
  fraction: number;
  value?: number;
  /** Spec ms; absent = until cleared. */
  durationMs?: number;
}

/** An app of a cluster group. */
export interface ProfileApp {
  name: string;
  affinity: 'preferred' | 'required';
}

/** `count` edge-node clusters of one shape. */
export interface ClusterGroup {
  count: number;
  size: number;
  workers: number;
  tieBreaker: boolean;
  apps: ProfileApp[];
}

export interface FleetProfile {
  hardware: (HardwareModel & { fraction: number })[];
  clusters: ClusterGroup[];
  faults: ProfileFault[];
  /** Reboots per device per hour of spec time (0 = none). */
  rebootsPerHour: number;
  clockSkew: { fraction: number; ms: number }[];
}

/** What one device gets from the profile. */
export interface DeviceTraits {
  hardware?: HardwareModel;
  faults: ProfileFault[];
  clockSkewMs?: number;
}

/** Raised for a profile that does not parse or has an unknown or invalid key; the message names the key. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

export const EMPTY_PROFILE: FleetProfile = { hardware: [], clusters: [], faults: [], rebootsPerHour: 0, clockSkew: [] };

type Obj = Record<string, unknown>;

/** Reads and validates a profile file. */
export async function loadProfile(file: string): Promise<FleetProfile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ProfileError(`--profile ${file}: ${errorMessage(e)}`);
  }
  return parseProfile(text, file);
}

/** Parses profile YAML; `source` prefixes every error. */
export function parseProfile(text: string, source = 'profile'): FleetProfile {
  const fail = (where: string, why: string): never => {
    throw new ProfileError(`${source}: ${where}: ${why}`);
  };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    return fail('YAML', errorMessage(e).split('\n')[0]);
  }
  if (doc === null || doc === undefined) return EMPTY_PROFILE;
  const top = object(doc, '(top level)', fail);
  keysOf(top, '(top level)', ['hardware', 'faults', 'churn', 'clockSkew', 'clusters'], fail);

  const hardware = list(top.hardware, 'hardware', fail).map((h, i) => {
    const at = `hardware[${i}]`;
    const o = object(h, at, fail);
    keysOf(o, at, ['fraction', 'manufacturer', 'productName', 'ncpu', 'memoryMB', 'storageMB'], fail);
    return {
      fraction: fraction(o.fraction, `${at}.fraction`, fail),
      manufacturer: str(o.manufacturer, `${at}.manufacturer`, fail),
      productName: str(o.productName, `${at}.productName`, fail),
      ...optInt(o, 'ncpu', at, fail),
      ...optInt(o, 'memoryMB', at, fail),
      ...optInt(o, 'storageMB', at, fail),
    };
  });
  const hwSum = hardware.reduce((s, h) => s + h.fraction, 0);
  if (hwSum > 1 + 1e-9) fail('hardware', `fractions add up to ${hwSum}, more than 1`);

  const faults = list(top.faults, 'faults', fail).map((f, i): ProfileFault => {
    const at = `faults[${i}]`;
    const o = object(f, at, fail);
    keysOf(o, at, ['kind', 'fraction', 'value', 'duration'], fail);
    const kind = str(o.kind, `${at}.kind`, fail);
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) fail(`${at}.kind`, `"${kind}" is not one of: ${FAULT_KINDS.join(', ')}`);
    if (o.value !== undefined && typeof o.value !== 'number') fail(`${at}.value`, 'must be a number');
    return {
      kind: kind as FaultKind,
      fraction: fraction(o.fraction, `${at}.fraction`, fail),
      ...(o.value !== undefined ? { value: o.value as number } : {}),
      ...(o.duration !== undefined ? { durationMs: duration(o.duration, `${at}.duration`, fail) } : {}),
    };
  });

  let rebootsPerHour = 0;
  if (top.churn !== undefined) {
    const o = object(top.churn, 'churn', fail);
    keysOf(o, 'churn', ['rebootsPerHour'], fail);
    if (typeof o.rebootsPerHour !== 'number' || !(o.rebootsPerHour >= 0)) fail('churn.rebootsPerHour', 'must be a number ≥ 0');
    rebootsPerHour = o.rebootsPerHour as number;
  }

  const clockSkew = list(top.clockSkew, 'clockSkew', fail).map((c, i) => {
    const at = `clockSkew[${i}]`;
    const o = object(c, at, fail);
    keysOf(o, at, ['fraction', 'ms'], fail);
    if (typeof o.ms !== 'number' || !Number.isFinite(o.ms)) fail(`${at}.ms`, 'must be a number of ms (negative = behind)');
    return { fraction: fraction(o.fraction, `${at}.fraction`, fail), ms: o.ms as number };
  });
  const clusters = list(top.clusters, 'clusters', fail).map((c, i) => clusterGroup(c, `clusters[${i}]`, fail));
  return { hardware, clusters, faults, rebootsPerHour, clockSkew };
}

function clusterGroup(v: unknown, at: string, fail: (w: string, y: string) => never): ClusterGroup {
  const o = object(v, at, fail);
  keysOf(o, at, ['count', 'size', 'workers', 'tieBreaker', 'apps'], fail);
  const int = (key: string, min: number, dflt?: number): number => {
    const x = o[key] ?? dflt;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min) return fail(`${at}.${key}`, `must be an integer ≥ ${min}`);
    return x;
  };
  const count = int('count', 1);
  const size = int('size', 1);
  const workers = int('workers', 0, 0);
  if (o.tieBreaker !== undefined && typeof o.tieBreaker !== 'boolean') fail(`${at}.tieBreaker`, 'must be true or false');
  const tieBreaker = o.tieBreaker === true;
  // The bootstrap member is a server; a tie-breaker is a server that runs no apps (cluster.md §12).
  if (workers > size - 1 - (tieBreaker ? 1 : 0)) fail(`${at}.workers`, `leaves no server for the bootstrap member (size ${size}${tieBreaker ? ', one tie-breaker' : ''})`);
  if (tieBreaker && size < 3) fail(`${at}.tieBreaker`, 'needs a size of at least 3');
  const names = new Set<string>();
  const apps = list(o.apps, `${at}.apps`, fail).map((a, j): ProfileApp => {
    const where = `${at}.apps[${j}]`;
    const ao = object(a, where, fail);
    keysOf(ao, where, ['name', 'affinity'], fail);
    const name = str(ao.name, `${where}.name`, fail);
    if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) fail(`${where}.name`, 'use 1 to 32 of [a-z0-9-], starting and ending alphanumeric');
    if (names.has(name)) fail(`${where}.name`, `"${name}" is listed twice`);
    names.add(name);
    const affinity = ao.affinity ?? 'preferred';
    if (affinity !== 'preferred' && affinity !== 'required') fail(`${where}.affinity`, 'must be preferred or required');
    return { name, affinity: affinity };
  });
  return { count, size, workers, tieBreaker, apps };
}

/**
 * Each device's traits: every entry takes exactly round(fraction · n) of `serials`, the lowest by
 * hash(section, entry, serial); hardware models take disjoint slices of one ranking.
 */
export function assignTraits(serials: readonly string[], profile: FleetProfile): Map<string, DeviceTraits> {
  const out = new Map<string, DeviceTraits>(serials.map((s) => [s, { faults: [] }]));
  const ranked = (salt: string): string[] =>
    serials
      .map((s) => ({ s, h: createHash('sha256').update(`${salt}\0${s}`).digest('hex') }))
      .sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : 0))
      .map((x) => x.s);
  const take = (f: number): number => Math.round(f * serials.length);

  if (profile.hardware.length) {
    const order = ranked('hardware');
    let at = 0;
    for (const { fraction: f, ...model } of profile.hardware) {
      for (const s of order.slice(at, at + take(f))) out.get(s)!.hardware = model;
      at += take(f);
    }
  }
  profile.faults.forEach((fault, i) => {
    for (const s of ranked(`faults/${i}`).slice(0, take(fault.fraction))) out.get(s)!.faults.push(fault);
  });
  profile.clockSkew.forEach((c, i) => {
    for (const s of ranked(`clockSkew/${i}`).slice(0, take(c.fraction))) out.get(s)!.clockSkewMs = c.ms;
  });
  return out;
}

function object(v: unknown, at: string, fail: (w: string, y: string) => never): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(at, 'must be a mapping');
  return v as Obj;
}

function list(v: unknown, at: string, fail: (w: string, y: string) => never): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return fail(at, 'must be a list');
  return v as unknown[];
}

function keysOf(o: Obj, at: string, allowed: string[], fail: (w: string, y: string) => never): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(at === '(top level)' ? k : `${at}.${k}`, `unknown key (expected one of: ${allowed.join(', ')})`);
  }
}

function str(v: unknown, at: string, fail: (w: string, y: string) => never): string {
  if (typeof v !== 'string' || v.length === 0) return fail(at, 'must be a non-empty string');
  return v;
}

function fraction(v: unknown, at: string, fail: (w: string, y: string) => never): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) return fail(at, 'must be a number from 0 to 1');
  return v;
}

function optInt(o: Obj, key: string, at: string, fail: (w: string, y: string) => never): Record<string, number> {
  const v = o[key];
  if (v === undefined) return {};
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) return fail(`${at}.${key}`, 'must be a positive integer');
  return { [key]: v };
}

function duration(v: unknown, at: string, fail: (w: string, y: string) => never): number {
  if (typeof v !== 'string' && typeof v !== 'number') return fail(at, 'expected a duration such as 500ms, 30s, 5m or 1h');
  try {
    return parseDuration(String(v), at);
  } catch {
    return fail(at, 'expected a duration such as 500ms, 30s, 5m or 1h');
  }
}
