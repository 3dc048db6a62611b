/**
 * `edgesim ctl …`: talk to a running agent through its admin socket (`<state-dir>/admin.sock`, or `--socket`).
 * Every verb prints a table by default and JSON with `--output json`.
 */
import type { Command } from 'commander';
import { cliAction, onInterrupt } from './process.js';
import { printTable } from './table.js';
import { registerFleetQueries } from './fleet.js';
import {
  AdminClient,
  AdminError,
  adminSocketPath,
  isAdminError,
  parseDuration,
  type EventMsg,
  type FaultMsg,
} from '../agent/admin/index.js';

interface CtlFlags {
  stateDir?: string;
  socket?: string;
  output: string;
}

function connect(o: CtlFlags): AdminClient {
  if (o.socket) return new AdminClient(o.socket);
  if (o.stateDir) return new AdminClient(adminSocketPath(o.stateDir));
  throw new AdminError('INVALID_ARGUMENT', 'give --state-dir DIR (the agent state dir) or --socket PATH');
}

function printFields(fields: Array<[string, string]>): void {
  printTable(
    fields.map(([field, value]) => ({ field, value })),
    ['field', 'value'],
  );
}

const json = (v: unknown): void => void process.stdout.write(JSON.stringify(v, null, 2) + '\n');
const iso = (ms: number): string => (ms ? new Date(ms).toISOString() : '-');

function faultRow(f: FaultMsg): Record<string, string> {
  return { kind: f.kind, value: f.value === undefined ? '-' : String(f.value), until: f.untilMs === undefined ? 'cleared by hand' : iso(f.untilMs) };
}

function eventLine(e: EventMsg): string {
  return `${new Date(e.timeMs).toISOString()}  ${e.kind.padEnd(16)}  ${e.message}${e.fieldsJson ? '  ' + e.fieldsJson : ''}`;
}

/** Global flags plus every verb's own flags (commander merges them in optsWithGlobals). */
type VerbFlags = CtlFlags & { kind?: string[]; count?: string; value?: string; duration?: string };

const action = cliAction('ctl', { badInput: (e) => isAdminError(e) && e.kind === 'INVALID_ARGUMENT' });

/** Runs a verb with a connected client; errors become one stderr line, exit 2 for bad input, 1 otherwise. */
function verb(fn: (c: AdminClient, o: VerbFlags, ...positional: string[]) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const o = (args[args.length - 1] as Command).optsWithGlobals<VerbFlags>();
    await action(async () => {
      if (o.output !== 'table' && o.output !== 'json') throw new AdminError('INVALID_ARGUMENT', `--output "${o.output}": expected table or json`);
      const client = connect(o);
      try {
        await fn(client, o, ...(args.slice(0, -2) as string[]));
      } finally {
        client.close();
      }
    })();
  };
}

/** Registers `edgesim ctl` and its verbs. */
export function registerCtlCommands(program: Command): void {
  const ctl = program
    .command('ctl')
    .description('Inspect and steer a running agent through its admin socket (gRPC, edgesim.admin.v1), or a running fleet (`ctl fleet`).')
    .option('--state-dir <dir>', 'state dir of the running agent; its admin.sock is used')
    .option('--socket <path>', 'admin socket path instead of --state-dir (e.g. the agent\'s --admin-socket)')
    .option('--output <format>', 'table or json', 'table')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  edgesim ctl --state-dir ./dev1/state status\n' +
        '  edgesim ctl --state-dir ./dev1/state fault inject controller-unreachable --duration 30s\n' +
        '  edgesim ctl --socket /var/lib/edgesim/admin.sock watch --kind config --output json\n' +
        '  edgesim ctl fleet status --state fleet.db          # a running `edgesim fleet run` (its <state>.sock)',
    );

  ctl
    .command('status')
    .description('Phase, device UUID, controller reachability, attestation, last config, info queue, key store, faults, cluster.\nExample: edgesim ctl --state-dir ./dev1/state status')
    .action(
      verb(async (c, o) => {
        const s = await c.status();
        if (o.output === 'json') return json(s);
        const fields: Array<[string, string]> = [
          ['phase', s.phase],
          ['device uuid', s.deviceUuid || '-'],
          ['version', s.version],
          ['key store', s.keyStore ? `${s.keyStore.kind}: ${s.keyStore.description}` : '-'],
          ['controller', s.controllerReachable ? 'reachable' : 'unreachable'],
          ['attested', s.attested ? 'yes' : 'no'],
          ['config', s.lastConfigHash ? `${s.lastConfigHash} from ${s.configSource} at ${iso(s.lastConfigAtMs)}` : 'none yet'],
          ['config error', s.lastConfigError || '-'],
          ['info queue', `${s.queueDepth} waiting, oldest ${(s.queueOldestAgeMs / 1000).toFixed(1)} s`],
          ['faults', s.activeFaults.map((f) => f.kind).join(', ') || '-'],
        ];
        if (s.cluster) {
          fields.push(['cluster', `${s.cluster.role} ${s.cluster.clusterId} ip ${s.cluster.clusterIp} (${s.cluster.phase})`]);
          fields.push(['node', `${s.cluster.nodeName} ${s.cluster.nodeStatus || '-'}${s.cluster.isLeader ? ', leader' : ''}`]);
          if (s.cluster.error) fields.push(['cluster error', s.cluster.error]);
        }
        printFields(fields);
      }),
    );

  ctl
    .command('config')
    .description('The current device config, decoded, secrets redacted (table: a summary; json: the whole config).\nExample: edgesim ctl --state-dir ./dev1/state config --output json')
    .action(
      verb(async (c, o) => {
        const r = await c.config();
        const cfg = JSON.parse(r.json) as {
          deviceName?: string;
          version?: string;
          configItems?: Record<string, string>;
          cluster?: { kind: string; field?: string; reason?: string };
          apps?: unknown[];
          volumes?: unknown[];
        };
        if (o.output === 'json') return json({ configHash: r.configHash, source: r.source, receivedAtMs: r.receivedAtMs, config: cfg });
        const items = Object.entries(cfg.configItems ?? {}).map(([k, v]) => `${k}=${v}`);
        const cluster = cfg.cluster;
        printFields([
          ['device name', cfg.deviceName || '-'],
          ['version', cfg.version || '-'],
          ['config hash', r.configHash],
          ['source', `${r.source} at ${iso(r.receivedAtMs)}`],
          ['config items', items.join(' ') || '-'],
          ['cluster', cluster ? (cluster.kind === 'invalid' ? `invalid: ${cluster.field}: ${cluster.reason}` : cluster.kind) : '-'],
          ['apps', String(cfg.apps?.length ?? 0)],
          ['volumes', String(cfg.volumes?.length ?? 0)],
        ]);
      }),
    );

  ctl
    .command('apps')
    .description('App instances of the current config with their observed state.\nExample: edgesim ctl --state-dir ./dev1/state apps')
    .action(
      verb(async (c, o) => {
        const apps = await c.apps();
        if (o.output === 'json') return json(apps);
        printTable(
          apps.map((a) => ({
            uuid: a.uuid,
            name: a.displayName,
            version: a.version,
            activate: a.activate ? 'yes' : 'no',
            affinity: a.affinity,
            designated: a.designatedNodeId || 'any',
            state: a.state || '-',
          })),
          ['uuid', 'name', 'version', 'activate', 'affinity', 'designated', 'state'],
        );
      }),
    );

  ctl
    .command('nodes')
    .description("Nodes of this node's cluster as it last saw them (empty without a cluster).\nExample: edgesim ctl --state-dir ./dev1/state nodes")
    .action(
      verb(async (c, o) => {
        const nodes = await c.clusterNodes();
        if (o.output === 'json') return json(nodes);
        printTable(
          nodes.map((n) => ({ name: n.name, 'node-id': n.nodeId, ready: n.ready ? 'yes' : 'no', ip: n.internalIp, schedulable: n.schedulable ? 'yes' : 'no' })),
          ['name', 'node-id', 'ready', 'ip', 'schedulable'],
        );
      }),
    );

  ctl
    .command('watch')
    .description(
      'Follow agent events (phase, config.accepted/rejected, attested, info.queued, fault, cluster.*) until Ctrl-C.\n' +
        'json prints one object per line.\nExample: edgesim ctl --state-dir ./dev1/state watch --kind config --kind fault',
    )
    .option('--kind <prefix>', 'only events whose kind starts with this; repeatable (default: every event)', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--count <n>', 'exit after N events (default: run until interrupted)')
    .action(
      verb(async (c, o) => {
        const limit = o.count === undefined ? Infinity : Number(o.count);
        if (!(limit > 0)) throw new AdminError('INVALID_ARGUMENT', `--count "${o.count}": expected a positive number`);
        const stop = new AbortController();
        const off = onInterrupt(() => stop.abort());
        let n = 0;
        try {
          for await (const e of c.watch(o.kind ?? [], stop.signal)) {
            process.stdout.write((o.output === 'json' ? JSON.stringify(e) : eventLine(e)) + '\n');
            if (++n >= limit) break;
          }
        } finally {
          off();
        }
      }),
    );

  const fault = ctl.command('fault').description('Inject, clear and list faults (src/agent/faults.ts names them all).');
  fault
    .command('inject <kind>')
    .description(
      'Activate a fault: controller-unreachable, controller-5xx, controller-delay, config-tamper, clock-skew, tpm-unavailable, ' +
        'cluster-interface-down, k3s-killed, k3s-stopped, heartbeats-paused, status-server-down, config-loop-stall, queue-drop.\n' +
        'Example: edgesim ctl --state-dir ./dev1/state fault inject controller-delay --value 5000 --duration 2m',
    )
    .option('--value <n>', 'kind-specific: ms for controller-delay (default 5000) and clock-skew, HTTP status for controller-5xx (default 503)')
    .option('--duration <d>', 'clear by itself after this long (500ms, 30s, 2m, 1h; divided by the agent --time-scale) (default: until cleared)')
    .action(
      verb(async (c, o, kind) => {
        const value = o.value === undefined ? undefined : Number(o.value);
        if (value !== undefined && !Number.isInteger(value)) throw new AdminError('INVALID_ARGUMENT', `--value "${o.value}": expected an integer`);
        const f = await c.injectFault({
          kind,
          ...(value !== undefined ? { value } : {}),
          ...(o.duration ? { durationMs: parseDuration(o.duration, '--duration') } : {}),
        });
        if (o.output === 'json') return json(f);
        printTable([faultRow(f)], ['kind', 'value', 'until']);
      }),
    );
  fault
    .command('clear <kind>')
    .description('Clear one fault kind, or every fault with "all".\nExample: edgesim ctl --state-dir ./dev1/state fault clear all')
    .action(
      verb(async (c, o, kind) => {
        const cleared = await c.clearFault(kind);
        if (o.output === 'json') return json({ cleared });
        process.stdout.write(cleared.length ? `cleared: ${cleared.join(', ')}\n` : `not active: ${kind}\n`);
      }),
    );
  fault
    .command('list')
    .description('The active faults.\nExample: edgesim ctl --state-dir ./dev1/state fault list --output json')
    .action(
      verb(async (c, o) => {
        const faults = await c.listFaults();
        if (o.output === 'json') return json(faults);
        printTable(faults.map(faultRow), ['kind', 'value', 'until']);
      }),
    );

  // The same queries as `edgesim fleet status|devices|device`, on the fleet's admin socket.
  registerFleetQueries(ctl.command('fleet').description('Query a running fleet (edgesim.admin.v1.FleetAdmin on <state>.sock): status, devices, device <serial>.'));
}
