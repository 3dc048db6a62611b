/**
 * `edgesim controller …`: run the embedded development controller and administer it. Every verb except
 * `run` talks to a running controller's admin API (found through `<data-dir>/controller.json`).
 */
import type { Command } from 'commander';
import { createClock, createLogger, parseLogLevelSpec } from '../common/index.js';
import {
  DEFAULT_INFO_HISTORY,
  ControllerAdminClient,
  ControllerServer,
  isControllerError,
  readObjectFile,
  readPemFile,
  type FleetPage,
  type InfoItem,
} from '../controller/index.js';
import { cliAction, onInterrupt } from './process.js';
import { printTable } from './table.js';

const DEFAULT_DATA_DIR = 'edgesim-controller';
const DEFAULT_LISTEN = '127.0.0.1:8080';

interface ClientFlags {
  dataDir: string;
  adminUrl?: string;
}

function client(o: ClientFlags): Promise<ControllerAdminClient> {
  return o.adminUrl ? Promise.resolve(new ControllerAdminClient(o.adminUrl)) : ControllerAdminClient.fromDataDir(o.dataDir);
}

function withClientFlags(c: Command): Command {
  return c
    .option('--data-dir <dir>', `data dir of the running controller (its controller.json names the admin API)`, DEFAULT_DATA_DIR)
    .option('--admin-url <url>', 'admin API base URL instead of reading the data dir, e.g. http://127.0.0.1:8081');
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function infoRow(i: InfoItem): Record<string, string> {
  const text = JSON.stringify(i.info);
  return { seq: String(i.seq), received: iso(i.receivedAt), type: i.ztype, content: text.length > 100 ? text.slice(0, 97) + '...' : text };
}

/** Prints the device counts of `controller devices --summary`. */
function printFleetCounts(p: FleetPage): void {
  const c = p.counts;
  process.stdout.write(`${c.total} devices\n`);
  printTable(Object.entries(c.phases).map(([phase, n]) => ({ phase, devices: String(n) })), ['phase', 'devices']);
  const label = (ms: number): string => (ms < 60_000 ? `${ms / 1000} s` : ms < 3_600_000 ? `${ms / 60_000} min` : `${ms / 3_600_000} h`);
  const labels = [...p.lastSeenBucketsMs.map((ms) => `< ${label(ms)}`), 'older', 'never'];
  printTable(c.lastSeen.map((n, i) => ({ 'last seen': labels[i], devices: String(n) })), ['last seen', 'devices']);
  process.stdout.write(`(unreachable: silent for more than ${p.unreachableMs / 1000} s)\n`);
}

const action = cliAction('controller', { badInput: (e) => isControllerError(e) && e.kind === 'INVALID_INPUT' });

/** Registers `edgesim controller` and its verbs. */
export function registerControllerCommands(program: Command): void {
  const ctl = program
    .command('controller')
    .description('Embedded development controller (Adam-compatible EVE API v2) and its admin verbs.');

  ctl
    .command('run', { isDefault: true })
    .description(
      'Run the controller (default verb). On first start it creates its root CA, TLS, signing, encrypt and onboarding ' +
        'certs under --data-dir.\nExample: edgesim controller --data-dir ./ctl --listen 127.0.0.1:8080',
    )
    .option('--data-dir <dir>', 'state folder: certs/, controller.db, controller.json', DEFAULT_DATA_DIR)
    .option('--listen <host:port>', 'device API (HTTPS) address; port 0 picks a free port', DEFAULT_LISTEN)
    .option('--admin-listen <host:port>', 'admin API (HTTP, loopback only) address (default: device port + 1, or 0 when the device port is 0)')
    .option('--advertise <host:port>', 'address devices use (written to their `server` file and the TLS cert) (default: the bound device address)')
    .option('--log-level <spec>', 'log level, optionally per component, e.g. info,controller.api=debug', 'info')
    .option('--time-scale <k>', 'divide every wait by k (tests, demos)', '1')
    .option('--info-history <n>', 'info messages kept per device besides the latest of each type (older ones are trimmed)', String(DEFAULT_INFO_HISTORY))
    .option('--no-ui', 'do not serve the dashboard (by default it is read-only at <admin API>/ui/)')
    .option('--ui-listen <host:port>', 'serve the dashboard on this loopback address instead of the admin listener')
    .option('--unreachable-after <seconds>', 'the dashboard counts a device silent this long as unreachable (scaled by --time-scale)', '180')
    .action(
      action(async (o: {
        dataDir: string;
        listen: string;
        adminListen?: string;
        advertise?: string;
        logLevel: string;
        timeScale: string;
        infoHistory: string;
        ui: boolean;
        uiListen?: string;
        unreachableAfter: string;
      }) => {
        const logger = createLogger(parseLogLevelSpec(o.logLevel));
        const server = await ControllerServer.create({
          dataDir: o.dataDir,
          listen: o.listen,
          ...(o.adminListen ? { adminListen: o.adminListen } : {}),
          ...(o.advertise ? { advertise: o.advertise } : {}),
          infoHistory: Number(o.infoHistory),
          ui: o.ui,
          ...(o.uiListen ? { uiListen: o.uiListen } : {}),
          unreachableAfterMs: Number(o.unreachableAfter) * 1000,
          logger,
          clock: createClock(Number(o.timeScale)),
        });
        const ep = server.endpoints();
        process.stdout.write(`device API ${ep.deviceUrl}\nadmin API  ${ep.adminUrl}\n${ep.uiUrl ? `dashboard  ${ep.uiUrl}\n` : ''}`);
        const off = onInterrupt(() => void server.stop());
        await server.run();
        off();
      }),
    );

  withClientFlags(
    ctl
      .command('device-config')
      .description(
        'Write a ready-to-use EVE config folder (server, root-certificate.pem, onboard.cert.pem, onboard.key.pem 0600, ' +
          'soft_serial) and register the onboarding cert with the serial.\n' +
          'Example: edgesim controller device-config --data-dir ./ctl --out ./node1/config --serial SIM-0001',
      )
      .requiredOption('--out <dir>', 'folder to write (created when missing)')
      .option('--serial <serial>', 'soft serial to write and register (default: random edgesim-<8 hex>)'),
  ).action(
    action(async (o: ClientFlags & { out: string; serial?: string }) => {
      const c = await client(o);
      const r = await c.exportDeviceConfig({ outDir: o.out, ...(o.serial ? { serial: o.serial } : {}) });
      process.stdout.write(`wrote ${o.out} (serial ${r.serial})\n`);
    }),
  );

  const onboard = ctl.command('onboard').description('Onboarding certificates allowed to register devices.');
  withClientFlags(
    onboard
      .command('add')
      .description('Allow an onboarding cert to register the given serials.\nExample: edgesim controller onboard add --cert onboard.pem --serial SIM-0001 --serial SIM-0002')
      .requiredOption('--cert <file>', 'onboarding certificate PEM file')
      .requiredOption('--serial <serial...>', 'serial(s) it may register; "*" allows any'),
  ).action(
    action(async (o: ClientFlags & { cert: string; serial: string[] }) => {
      const c = await client(o);
      const r = await c.addOnboard(await readPemFile(o.cert), o.serial);
      process.stdout.write(`onboarding cert ${r.certHash.slice(0, 16)}… (${r.subject}) serials: ${r.serials.join(', ')}\n`);
    }),
  );
  withClientFlags(onboard.command('list').description('List onboarding certs and their serials.'))
    .option('--output <format>', 'table or json', 'table')
    .action(
      action(async (o: ClientFlags & { output: string }) => {
        const list = await (await client(o)).listOnboard();
        if (o.output === 'json') process.stdout.write(JSON.stringify(list, null, 2) + '\n');
        else printTable(list.map((r) => ({ hash: r.certHash.slice(0, 16), subject: r.subject, serials: r.serials.join(',') })), ['hash', 'subject', 'serials']);
      }),
    );

  withClientFlags(
    ctl
      .command('devices')
      .description(
        'List registered devices. With --summary, --search, --limit or --offset: counts by phase and last-seen age ' +
          'and one page of devices in registration order (stays fast with 10,000 devices).\n' +
          'Examples: edgesim controller devices --output json\n          edgesim controller devices --search SIM-00 --limit 20 --offset 40\n' +
          '          edgesim controller devices --summary',
      ),
  )
    .option('--output <format>', 'table or json', 'table')
    .option('--summary', 'only the counts by phase (onboarding, attesting, running, unreachable) and by last-seen age')
    .option('--search <text>', 'only devices whose serial, UUID or name contains this (case-insensitive)')
    .option('--limit <n>', 'devices per page (1-500; default 50 when paging)')
    .option('--offset <n>', 'devices to skip (paging)')
    .action(
      action(async (o: ClientFlags & { output: string; summary?: boolean; search?: string; limit?: string; offset?: string }) => {
        const c = await client(o);
        if (o.summary || o.search !== undefined || o.limit !== undefined || o.offset !== undefined) {
          const num = (v: string | undefined, flag: string): number | undefined => {
            if (v === undefined) return undefined;
            if (!/^\d+$/.test(v)) throw new Error(`${flag} "${v}" is not a whole number`);
            return Number(v);
          };
          const limit = num(o.limit, '--limit');
          const offset = num(o.offset, '--offset');
          const page = await c.fleet({
            ...(o.search !== undefined ? { search: o.search } : {}),
            ...(limit !== undefined ? { limit } : {}),
            ...(offset !== undefined ? { offset } : {}),
          });
          if (o.output === 'json') {
            process.stdout.write(JSON.stringify(o.summary ? { counts: page.counts, unreachableMs: page.unreachableMs, lastSeenBucketsMs: page.lastSeenBucketsMs } : page, null, 2) + '\n');
            return;
          }
          if (o.summary) {
            printFleetCounts(page);
            return;
          }
          printTable(
            page.rows.map((d) => ({
              serial: d.serial,
              name: d.name ?? '-',
              uuid: d.uuid,
              model: d.model ?? '-',
              phase: d.phase,
              config: d.configVersion === null ? '-' : `v${d.configVersion}`,
              'last seen': iso(d.lastSeenAt),
            })),
            ['serial', 'name', 'uuid', 'model', 'phase', 'config', 'last seen'],
          );
          const last = page.offset + page.rows.length;
          process.stdout.write(page.total === 0 ? 'no devices\n' : `${page.offset + 1}-${last} of ${page.total}${o.search ? ` matching "${o.search}"` : ''}\n`);
          return;
        }
        const list = await c.devices();
        if (o.output === 'json') {
          process.stdout.write(JSON.stringify(list, null, 2) + '\n');
          return;
        }
        printTable(
          list.map((d) => ({
            uuid: d.uuid,
            name: d.name ?? '-',
            serial: d.serial,
            attested: d.attested ? 'yes' : 'no',
            config: d.configVersion === null ? '-' : `v${d.configVersion}`,
            'last seen': iso(d.lastSeenAt),
          })),
          ['uuid', 'name', 'serial', 'attested', 'config', 'last seen'],
        );
      }),
    );

  const config = ctl.command('config').description("A device's EdgeDevConfig.");
  withClientFlags(
    config
      .command('set <device>')
      .description(
        'Replace the config of a device (UUID, name or serial) from YAML or JSON with proto field names; id and ' +
          'controllercert_confighash are filled in.\nExample: edgesim controller config set SIM-0001 -f node1.yaml',
      )
      .requiredOption('-f, --file <file>', 'EdgeDevConfig as .yaml/.yml/.json'),
  ).action(
    action(async (device: string, o: ClientFlags & { file: string }) => {
      const c = await client(o);
      const r = await c.setConfig(device, await readObjectFile(o.file));
      process.stdout.write(`device ${r.uuid} config v${r.version} hash ${r.configHash}\n`);
    }),
  );
  withClientFlags(
    config
      .command('get <device>')
      .description('Print the current config of a device as JSON.\nExample: edgesim controller config get SIM-0001'),
  ).action(
    action(async (device: string, o: ClientFlags) => {
      const v = await (await client(o)).getConfig(device);
      process.stdout.write(JSON.stringify(v, null, 2) + '\n');
    }),
  );

  withClientFlags(
    ctl
      .command('info <device>')
      .description(
        'Show the info messages a device sent, oldest first.\nExample: edgesim controller info SIM-0001 --type ZiKubeCluster --follow --output json',
      )
      .option('--follow', 'keep printing new messages until interrupted', false)
      .option('--type <ztype...>', 'only these ZInfoTypes names, e.g. ZiDevice ZiApp')
      .option('--since <time>', 'only messages received at or after this ISO time or epoch ms')
      .option('--output <format>', 'table or json (one JSON object per line)', 'table'),
  ).action(
    action(async (device: string, o: ClientFlags & { follow: boolean; type?: string[]; since?: string; output: string }) => {
      const c = await client(o);
      const sinceMs = o.since === undefined ? undefined : /^\d+$/.test(o.since) ? Number(o.since) : Date.parse(o.since);
      if (sinceMs !== undefined && Number.isNaN(sinceMs)) throw new Error(`--since "${o.since}" is not an ISO time or epoch ms`);
      const q = { ...(sinceMs !== undefined ? { sinceMs } : {}), ...(o.type ? { types: o.type } : {}) };
      const json = o.output === 'json';
      const columns = ['seq', 'received', 'type', 'content'];
      if (!o.follow) {
        const items = await c.info(device, q);
        if (json) for (const i of items) process.stdout.write(JSON.stringify(i) + '\n');
        else printTable(items.map(infoRow), columns);
        return;
      }
      const ac = new AbortController();
      const off = onInterrupt(() => ac.abort());
      if (!json) printTable([], columns);
      try {
        for await (const i of c.followInfo(device, q, ac.signal)) {
          if (json) process.stdout.write(JSON.stringify(i) + '\n');
          else process.stdout.write(Object.values(infoRow(i)).join('  ') + '\n');
        }
      } finally {
        off();
      }
    }),
  );

  const cluster = ctl.command('cluster').description('Edge-node clusters (EdgeNodeCluster blocks in member configs).');
  withClientFlags(
    cluster
      .command('apply')
      .description(
        "Create or update a cluster from YAML/JSON and bump each member's config; members dropped since the last " +
          'apply leave (their cluster block is removed).\n' +
          'Fields: name; id (UUID, optional); interface (e.g. ethernet1); prefix (e.g. 10.244.244.0/24); members: list of ' +
          '{device: UUID|name|serial, ip (default prefix+2+index), isWorker (false), name (sets device_name)}; ' +
          'joinServer (member, default the first); type (default CLUSTER_TYPE_REPLICATED_STORAGE); tieBreaker (member); ' +
          'useEncryptCert (true: ECDH with the encrypt cert, false: with the signing cert).\n' +
          'Example: edgesim controller cluster apply -f cluster.yaml\n' +
          'Token rotation: edgesim controller cluster apply -f cluster.yaml --rotate-token',
      )
      .requiredOption('-f, --file <file>', 'cluster definition (.yaml/.yml/.json)')
      .option('--rotate-token', "generate a new cluster token and send it to every member (each agent rewrites its k3s drop-ins and restarts k3s)")
      .option('--output <format>', 'table or json', 'table'),
  ).action(
    action(async (o: ClientFlags & { file: string; output: string; rotateToken?: boolean }) => {
      const def = await readObjectFile(o.file);
      const r = await (await client(o)).applyCluster(o.rotateToken ? { ...(def), rotateToken: true } : def);
      if (o.output === 'json') {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      for (const m of r.removed) process.stdout.write(`left the cluster: ${m.uuid} (config v${m.configVersion})\n`);
      printTable(
        r.members.map((m) => ({ device: m.uuid, ip: m.clusterIpPrefix, role: m.isWorker ? 'worker' : 'server', config: `v${m.configVersion}` })),
        ['device', 'ip', 'role', 'config'],
      );
    }),
  );
}
