/** `edgesim fleet`: many simulated EVE devices in one process (src/fleet). */
import type { Command } from 'commander';
import { DeviceConfigError, FaultError } from '../agent/index.js';
import { AdminError, isAdminError, parseDuration } from '../agent/admin/index.js';
import {
  Fleet,
  FleetAdminClient,
  FleetAdminServer,
  FleetError,
  FleetMetricsServer,
  ProfileError,
  SchedulerClock,
  fleetSocketPath,
  loadProfile,
  parseShard,
  snapshotJsonLine,
  snapshotTable,
} from '../fleet/index.js';
import { ControllerAdminClient } from '../controller/index.js';
import { printTable } from './table.js';
import { cliAction, stopOnSignals } from './process.js';
import { loggerFromFlags, withLogFlags } from './logging.js';

interface RunFlags {
  configDir: string;
  state: string;
  count: string;
  serialPrefix: string;
  serialStart: string;
  shard?: string;
  ramp: string;
  timeScale: string;
  profile?: string;
  maxInFlight: string;
  controllerAdmin?: string;
  clusterSpecs?: string;
  k3sConfig?: string[];
  configInterval?: string;
  infoInterval?: string;
  metricInterval?: string;
  view: string;
  output?: string;
  metricsListen?: string;
  adminSocket?: string;
  logLevel?: string;
  logFormat?: string;
}

interface ClientFlags {
  state?: string;
  adminSocket?: string;
  output?: string;
}

/** `--controller-admin`: an http URL (the admin API listens on loopback). */
function adminUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`--controller-admin "${text}": expected the admin API's URL, e.g. http://127.0.0.1:8081`);
  }
  if (u.protocol !== 'http:') throw new Error(`--controller-admin "${text}": the embedded controller's admin API is http://`);
  return u.toString().replace(/\/$/, '');
}

/** `key=value` pairs of a repeatable flag. */
function keyValues(items: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items) {
    const i = it.indexOf('=');
    if (i < 1) throw new Error(`${flag} "${it}": expected key=value`);
    out[it.slice(0, i)] = it.slice(i + 1);
  }
  return out;
}

const seconds = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v) * 1000);

/** `--shard` default: the Indexed Job's JOB_COMPLETION_INDEX over EDGESIM_FLEET_SHARDS, else the whole fleet. */
function defaultShard(): string {
  const index = process.env.JOB_COMPLETION_INDEX;
  const shards = process.env.EDGESIM_FLEET_SHARDS;
  if (index === undefined) return '0/1';
  if (shards === undefined) throw new Error('JOB_COMPLETION_INDEX is set but EDGESIM_FLEET_SHARDS is not: set it to the Job\'s completions (or give --shard i/n)');
  return `${index}/${shards}`;
}

const badInput = (e: unknown): boolean =>
  e instanceof FleetError || e instanceof ProfileError || e instanceof DeviceConfigError || e instanceof FaultError || e instanceof RangeError ||
  (e instanceof Error && e.message.startsWith('--'));

export function registerFleetCommands(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('Simulate many EVE devices in one process (each the same protocol core as `edgesim agent`), sharded across machines.');

  withLogFlags(
    fleet
      .command('run')
      .description('Onboard and run --count devices against the controller of --config-dir until interrupted.')
      .addHelpText(
        'after',
        '\nEvery device does what `edgesim agent` does without k3s: /certs, register with the shared onboarding cert\n' +
          '(its own serial), /uuid, attestation, config polls, ZInfoDevice through the persisted info queue, metrics.\n' +
          'Keys, checkpoints and queues of all devices live in one SQLite file (--state): kill the process, start it\n' +
          'again with the same flags, and every device resumes with its UUID and keys, without registering again.\n' +
          'The first device runs one full cycle before the others start: a wrong --config-dir stops the run at once\n' +
          'with one line naming the cause (exit code 2).\n' +
          '\nExamples:\n' +
          '  edgesim controller device-config --data-dir ./ctl --out ./fleet-config\n' +
          "  edgesim controller onboard add --data-dir ./ctl --cert ./fleet-config/onboard.cert.pem --serial '*'   # any serial\n" +
          '  edgesim fleet run --config-dir ./fleet-config --state fleet.db --count 1000 --ramp 200\n' +
          '  edgesim fleet run ... --time-scale 60 --profile fleet.yaml --metrics-listen 127.0.0.1:9470\n' +
          '  JOB_COMPLETION_INDEX=2 EDGESIM_FLEET_SHARDS=10 edgesim fleet run --count 100000 ...   # = --shard 2/10\n' +
          '\nClusters and apps: a device whose config brings a cluster block or apps runs them as `edgesim agent` does\n' +
          '(the same cluster and app reconcilers), on in-process k3s with its cluster IP on the fleet\'s in-memory network\n' +
          '(never a real interface), reporting ZInfoClusterNode, ZInfoKubeCluster and ZInfoApp. The profile\'s `clusters:`\n' +
          'groups pick their members from the serials in order; once every member of a cluster runs, the fleet asks for it:\n' +
          '  --controller-admin URL   the embedded controller: `cluster apply` with the members\' UUIDs, then the apps\n' +
          '                           in every member\'s config (the controller generates and encrypts the token);\n' +
          '  otherwise                it writes what another controller must be given (cluster definitions in the\n' +
          '                           `controller cluster apply` format, member serials and app configs) to --cluster-specs.\n' +
          'Per member faults: fleet fault inject k3s-killed|k3s-stopped|heartbeats-paused|cluster-interface-down|power-loss.\n' +
          'Hundreds of clusters: give node a larger young generation, NODE_OPTIONS=--max-semi-space-size=32 (their short-\n' +
          'lived objects then die young; about a third less CPU, README "Fleet").\n' +
          'The `edgesim` command starts the fleet with one libuv thread (UV_THREADPOOL_SIZE=1, unless already set): its\n' +
          'pool work is short signatures and verifications, and more threads only add wake-ups on a small machine.\n' +
          '\nThe live view prints every --view seconds: a table on a terminal, else one JSON object per line.',
      )
      .requiredOption('--config-dir <dir>', 'EVE config folder all devices share: server, root-certificate.pem, onboard.cert.pem + onboard.key.pem')
      .requiredOption('--state <file>', 'SQLite file for every device\'s keys, UUID, checkpoints and info queue (created 0600)')
      .requiredOption('--count <n>', 'devices in the whole fleet (all shards together)')
      .option('--serial-prefix <text>', 'device serial = prefix + number', 'edgesim-fleet-')
      .option('--serial-start <n>', 'number of the first device\'s serial', '0')
      .option('--shard <i/n>', 'simulate part i of n (0-based) of the fleet; default from JOB_COMPLETION_INDEX/EDGESIM_FLEET_SHARDS, else 0/1')
      .option('--ramp <n>', 'devices started per second (at most 8 × --max-in-flight onboarding at once, each counted 1 s at most)', '100')
      .option('--time-scale <k>', 'divide every EVE timer by K (10 simulated minutes in 10 s with 60)', '1')
      .option('--profile <file>', 'YAML mix of hardware models, faults, churn and clock skew (see src/fleet/profile.ts, README "Fleet")')
      .option('--controller-admin <url>', 'admin API of the embedded controller (its controller.json adminUrl, e.g. http://127.0.0.1:8081): the fleet applies the profile\'s clusters there')
      .option('--cluster-specs <file>', 'without --controller-admin: where the profile\'s clusters are written for another controller (default: <state>.clusters.yaml)')
      .option('--k3s-config <key=value...>', 'extra config of every in-process k3s, e.g. pod-start-delay=1s')
      .option('--max-in-flight <n>', 'requests in flight to the controller at once (keep-alive connections)', '64')
      .option('--config-interval <s>', 'config poll interval in seconds (default: config item, else 60)')
      .option('--info-interval <s>', 'device info heartbeat in seconds (default: config item, else 600)')
      .option('--metric-interval <s>', 'metrics interval in seconds (default: config item, else 60)')
      .option('--view <s>', 'live view period in seconds (0 = off)', '5')
      .option('--output <format>', 'live view format: table or json (default: table on a terminal, else json)')
      .option(
        '--metrics-listen <host:port>',
        'serve Prometheus metrics (aggregates only) at http://HOST:PORT/metrics; a bare port = 127.0.0.1, another address only when written out, e.g. 0.0.0.0:9470 in a pod (default: off)',
      )
      .option('--admin-socket <path>', 'admin API unix socket (fleet status|devices|device|fault) (default: <state>.sock)'),
    'warn',
  ).action(
    cliAction('fleet run', { badInput })(async (flags: RunFlags) => {
      const logger = loggerFromFlags(flags, false);
      const clock = new SchedulerClock(Number(flags.timeScale));
      const f = await Fleet.create({
        configDir: flags.configDir,
        statePath: flags.state,
        count: Number(flags.count),
        serialPrefix: flags.serialPrefix,
        serialStart: Number(flags.serialStart),
        shard: parseShard(flags.shard ?? defaultShard()),
        rampPerSecond: Number(flags.ramp),
        maxInFlight: Number(flags.maxInFlight),
        timers: {
          configIntervalMs: seconds(flags.configInterval),
          deviceInfoIntervalMs: seconds(flags.infoInterval),
          metricIntervalMs: seconds(flags.metricInterval),
        },
        ...(flags.profile ? { profile: await loadProfile(flags.profile) } : {}),
        ...(flags.controllerAdmin
          ? { clusterTarget: { kind: 'admin' as const, admin: new ControllerAdminClient(adminUrl(flags.controllerAdmin)) } }
          : flags.clusterSpecs
            ? { clusterTarget: { kind: 'file' as const, path: flags.clusterSpecs } }
            : {}),
        ...(flags.k3sConfig ? { k3sConfig: keyValues(flags.k3sConfig, '--k3s-config') } : {}),
        clock,
        logger,
      });
      const metrics = flags.metricsListen ? await FleetMetricsServer.start(f.registry, flags.metricsListen).catch(async (e: unknown) => {
        await f.stop();
        throw e;
      }) : undefined;
      if (metrics) logger.info('metrics served', { url: metrics.url });
      const admin = await FleetAdminServer.create(f, flags.adminSocket ?? fleetSocketPath(flags.state), program.version() ?? '0.0.0', logger).catch(
        async (e: unknown) => {
          await f.stop();
          await metrics?.close();
          throw e;
        },
      );
      const json = flags.output ? flags.output === 'json' : !process.stdout.isTTY;
      const print = (): void => {
        const s = f.snapshot();
        process.stdout.write((json ? snapshotJsonLine(s) : snapshotTable(s)) + '\n');
      };
      const viewMs = Number(flags.view) * 1000;
      // A ref'd timer: the devices' timers are unref'd (as every Clock's), the fleet lives until a signal stops it.
      const view = setInterval(() => viewMs > 0 && print(), viewMs > 0 ? viewMs : 3_600_000);
      stopOnSignals(async () => {
        clearInterval(view);
        await admin.stop();
        await f.stop();
        if (viewMs > 0) print();
        await metrics?.close();
      });
      try {
        await f.run();
      } catch (e) {
        clearInterval(view);
        await admin.stop();
        await f.stop();
        await metrics?.close();
        throw e;
      }
    }),
  );

  registerFleetQueries(fleet);
  const client = (cmd: Command): Command => withClientFlags(cmd).option('--output <format>', 'table or json', 'table');
  const clientAction = <A extends unknown[]>(name: string, fn: (c: FleetAdminClient, ...args: A) => Promise<void>) =>
    cliAction(`fleet ${name}`, { badInput: clientBadInput })(async (...args: A) => {
      const c = connect(args[args.length - 2] as ClientFlags);
      try {
        await fn(c, ...args);
      } finally {
        c.close();
      }
    });

  const fault = fleet
    .command('fault')
    .description('Faults of the agent catalogue, and power-loss (k3s killed, cluster interface and device down), on a share of a running fleet.');
  client(
    fault
      .command('inject <kind>')
      .description(
        'Inject a fault into a fraction of the devices (chosen at random) or into named serials.\n' +
          'Example: edgesim fleet fault inject controller-unreachable --fraction 0.1 --duration 5m --state fleet.db',
      )
      .option('--fraction <f>', 'share of the devices, (0, 1]', '1')
      .option('--serial <serial...>', 'these devices instead of a fraction')
      .option('--value <n>', 'kind-specific: ms for controller-delay and clock-skew, HTTP status for controller-5xx')
      .option('--duration <d>', 'clears by itself after this long (spec time), e.g. 30s, 5m'),
  ).action(
    clientAction('fault inject', async (c, kind: string, o: ClientFlags & { fraction: string; serial?: string[]; value?: string; duration?: string }) => {
      const serials = await c.injectFault({
        kind,
        fraction: Number(o.fraction),
        serials: o.serial ?? [],
        ...(o.value !== undefined ? { value: Number(o.value) } : {}),
        ...(o.duration !== undefined ? { durationMs: parseDuration(o.duration, '--duration') } : {}),
      });
      out(o, { kind, serials }, () => process.stdout.write(`${kind} injected into ${serials.length} device(s)\n`));
    }),
  );
  client(fault.command('clear <kind>').description('Clear a fault kind (or "all") on every device.')).action(
    clientAction('fault clear', async (c, kind: string, o: ClientFlags) => {
      const n = await c.clearFault(kind);
      out(o, { kind, devices: n }, () => process.stdout.write(`${kind} cleared on ${n} device(s)\n`));
    }),
  );
}

const withClientFlags = (cmd: Command): Command =>
  cmd
    .option('--state <file>', 'the state file of the running fleet (its admin socket is <state>.sock)')
    .option('--admin-socket <path>', 'the admin socket, when not <state>.sock');

/** The fleet's admin socket: --admin-socket, else `edgesim ctl --socket`, else <state>.sock. */
function connect(o: ClientFlags & { socket?: string }): FleetAdminClient {
  const socket = o.adminSocket ?? o.socket ?? (o.state ? fleetSocketPath(o.state) : undefined);
  if (!socket) throw new AdminError('INVALID_ARGUMENT', '--state FILE (the fleet\'s state file) or --admin-socket PATH is required');
  return new FleetAdminClient(socket);
}

const clientBadInput = (e: unknown): boolean => isAdminError(e) && (e.kind === 'INVALID_ARGUMENT' || e.kind === 'NOT_FOUND');

const out = (o: ClientFlags, value: unknown, table: () => void): void => {
  if (o.output === 'json') process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else table();
};

/**
 * Registers the fleet queries `status`, `devices` and `device <serial>` under `parent`: `edgesim fleet` and
 * `edgesim ctl fleet` both call this, so the two answer alike. Flags are read with the parent's (`ctl --socket`,
 * `ctl --output`); `--output` is added here unless the parent has it.
 */
export function registerFleetQueries(parent: Command): void {
  const parentHasOutput = parent.parent?.options.some((o) => o.long === '--output') ?? false;
  const client = (cmd: Command): Command => {
    withClientFlags(cmd);
    return parentHasOutput ? cmd : cmd.option('--output <format>', 'table or json', 'table');
  };
  const name = parent.parent?.name() === 'ctl' ? 'ctl fleet' : 'fleet';
  /** Runs a query with a connected client; the last argument is the Command (its flags merged with the parents'). */
  const query = (verb: string, fn: (c: FleetAdminClient, o: ClientFlags & Record<string, string | undefined>, ...positional: string[]) => Promise<void>) =>
    async (...args: unknown[]): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      const o = { ...cmd.optsWithGlobals<ClientFlags>(), ...cmd.opts<ClientFlags>() } as ClientFlags & Record<string, string | undefined>;
      await cliAction(`${name} ${verb}`, { badInput: clientBadInput })(async () => {
        if (o.output !== undefined && o.output !== 'table' && o.output !== 'json') {
          throw new AdminError('INVALID_ARGUMENT', `--output "${o.output}": expected table or json`);
        }
        const c = connect(o);
        try {
          await fn(c, o, ...(args.slice(0, -2) as string[]));
        } finally {
          c.close();
        }
      })();
    };

  client(parent.command('status').description(`Devices by phase and by fault, queue depth, requests by endpoint of a running fleet.\nExample: edgesim ${name} status --state fleet.db`)).action(
    query('status', async (c, o) => {
      const s = await c.status();
      out(o, s, () => {
        process.stdout.write(`fleet ${s.state}, shard ${s.shard}, ${s.devices} devices (${s.onboarded} onboarded), queue ${s.queueDepth}, restarts ${s.restarts}\n`);
        printTable(Object.entries(s.byPhase).map(([phase, n]) => ({ phase, devices: n })), ['phase', 'devices']);
        if (Object.keys(s.faults).length) printTable(Object.entries(s.faults).map(([fault, n]) => ({ fault, devices: n })), ['fault', 'devices']);
        printTable(Object.entries(s.requests).map(([k, n]) => ({ endpoint: k.split(' ')[0], status: k.split(' ')[1], requests: n })), ['endpoint', 'status', 'requests']);
      });
    }),
  );

  client(
    parent
      .command('devices')
      .description(`List the devices of a running fleet.\nExample: edgesim ${name} devices --state fleet.db --phase onboarding --limit 20`)
      .option('--phase <phase>', 'only devices in this phase (pending, onboarding, attesting, running, failed…)')
      .option('--offset <n>', 'skip the first n', '0')
      .option('--limit <n>', 'at most n (0 = all)', '0'),
  ).action(
    query('devices', async (c, o) => {
      const r = await c.devices({ offset: Number(o.offset), limit: Number(o.limit), ...(o.phase ? { phase: o.phase } : {}) });
      out(o, r, () => {
        printTable(
          r.devices.map((d) => ({ ...d, faults: d.faults.join(','), uuid: d.uuid || '-' })),
          ['serial', 'uuid', 'phase', 'queueDepth', 'reachable', 'faults', 'restarts', 'hardware'],
        );
        process.stdout.write(`${r.devices.length} of ${r.total}\n`);
      });
    }),
  );

  client(parent.command('device <serial>').description(`One device of a running fleet.\nExample: edgesim ${name} device edgesim-fleet-17 --state fleet.db`)).action(
    query('device', async (c, o, serial) => {
      const d = await c.device(serial);
      out(o, d, () => printTable(Object.entries(d).map(([field, value]: [string, unknown]) => ({ field, value: Array.isArray(value) ? value.join(',') : value })), ['field', 'value']));
    }),
  );
}
