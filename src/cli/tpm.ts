/**
 * `edgesim tpm …`: provision and inspect a device key store (swtpm, a TPM device, tabrmd or soft keys) and run
 * swtpm. Logic lives in src/tpm.
 */
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { createClock } from '../common/index.js';
import { cliAction } from './process.js';
import { printTable } from './table.js';
import {
  SwtpmProcess,
  describeKeyStore,
  isTpmError,
  provisionKeyStore,
  type KeyStoreInfo,
  type KeyStoreOptions,
} from '../tpm/index.js';
import { loggerFromFlags } from './logging.js';

interface StoreFlags {
  tpm: string;
  stateDir: string;
  timeoutMs: string;
  output: string;
  logLevel?: string;
}

const SPEC_HELP =
  "key store: 'soft' (key files, NOT hardware-protected), 'swtpm:host=127.0.0.1,port=2321', 'device:/dev/tpmrm0', " +
  "'device:/dev/tpm0' or 'tabrmd'";

function storeOptions(f: StoreFlags): KeyStoreOptions {
  const timeoutMs = Number(f.timeoutMs);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new RangeError('--timeout-ms must be a positive integer');
  return {
    spec: f.tpm,
    stateDir: f.stateDir,
    logger: loggerFromFlags({ logLevel: f.logLevel ?? 'warn' }, false),
    clock: createClock(),
    timeoutMs,
  };
}

function fingerprint(pem: string | undefined): string {
  return pem ? 'sha256:' + createHash('sha256').update(pem).digest('hex').slice(0, 16) : '-';
}

function printInfo(info: KeyStoreInfo, output: string): void {
  if (output === 'json') {
    process.stdout.write(JSON.stringify(info, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${info.description}  hardware-protected: ${info.hardwareProtected ? 'yes' : 'NO'}  pcr bank: ${info.pcrBank ?? '-'}\n`);
  printTable(
    info.objects.map((o) => ({
      role: o.role,
      location: o.location,
      present: o.present ? 'yes' : 'no',
      'public key': fingerprint(o.publicKeyPem),
      'cert subject': o.certSubject ?? '(no cert)',
      'cert not after': o.certNotAfter ?? '-',
    })),
  );
}

const action = cliAction('tpm', {
  badInput: (e) => e instanceof RangeError,
  detail: (e) => (isTpmError(e) ? ` [${e.kind}${e.codeHex ? ' ' + e.codeHex : ''}]` : ''),
});

function storeCommand(cmd: Command): Command {
  return cmd
    .requiredOption('--tpm <spec>', SPEC_HELP)
    .requiredOption('--state-dir <dir>', 'device state directory (certs/ and, for soft, keys/ live here), e.g. /var/lib/edgesim/dev1')
    .option('--timeout-ms <ms>', 'timeout of each TPM command (sent through tpm2_send)', '10000')
    .option('--output <format>', 'table or json', 'table')
    .option('--log-level <spec>', 'log level, optionally per component, e.g. "info,tpm=debug"', 'warn');
}

/** Registers `edgesim tpm …`. */
export function registerTpmCommands(program: Command): void {
  const tpm = program
    .command('tpm')
    .description('Device keys in a TPM (through tpm2-tools) or in software: provision, inspect, run swtpm.');

  storeCommand(tpm.command('provision'))
    .description("Create missing keys and certs in EVE's layout (0x817FFFFF device, 0x81000005 ECDH, 0x81000004 quote key); existing ones are kept.")
    .addHelpText('after', '\nExample:\n  edgesim tpm provision --tpm swtpm:host=127.0.0.1,port=2321 --state-dir /tmp/dev1')
    .action(
      action(async (f: StoreFlags) => {
        const { info } = await provisionKeyStore(storeOptions(f));
        printInfo(info, f.output);
      }),
    );

  storeCommand(tpm.command('info'))
    .description('Show which keys (handles or key files) and certificates exist, with public keys and cert subjects. Creates nothing.')
    .addHelpText('after', '\nExample:\n  edgesim tpm info --tpm soft --state-dir /tmp/dev1 --output json')
    .action(action(async (f: StoreFlags) => printInfo(await describeKeyStore(storeOptions(f)), f.output)));

  const swtpm = tpm.command('swtpm').description('Run a software TPM (swtpm) on loopback TCP for simulated devices.');
  swtpm
    .command('start')
    .description('Start swtpm in the background (data port N, control port N+1 on 127.0.0.1) and print its pid and TCTI.')
    .requiredOption('--state <dir>', 'TPM state directory (holds the TPM NV state, swtpm.pid and swtpm.log), e.g. /tmp/dev1/tpm')
    .option('--port <n>', 'data port; control uses n+1 (default: random free even port in 20000-40000)')
    .option('--output <format>', 'table or json', 'table')
    .addHelpText('after', '\nExample:\n  edgesim tpm swtpm start --state /tmp/dev1/tpm --port 2321\n  # then: edgesim tpm provision --tpm swtpm:host=127.0.0.1,port=2321 --state-dir /tmp/dev1')
    .action(
      action(async (f: { state: string; port?: string; output: string }) => {
        const port = f.port === undefined ? undefined : Number(f.port);
        if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65534)) {
          throw new RangeError('--port must be an integer in 1-65534');
        }
        const p = await SwtpmProcess.create({
          stateDir: f.state,
          ...(port !== undefined ? { port } : {}),
          logger: loggerFromFlags({ logLevel: 'warn' }, false),
          clock: createClock(),
        });
        const out = { pid: p.pid, port: p.port, tcti: p.tcti, state: p.stateDir };
        process.stdout.write(f.output === 'json' ? JSON.stringify(out) + '\n' : `pid ${out.pid}  tcti ${out.tcti}\n`);
      }),
    );
  swtpm
    .command('stop')
    .description('Stop the swtpm whose pid file is in --state (SIGTERM, then SIGKILL after 3 s). Succeeds if none runs.')
    .requiredOption('--state <dir>', 'the TPM state directory given to start')
    .addHelpText('after', '\nExample:\n  edgesim tpm swtpm stop --state /tmp/dev1/tpm')
    .action(
      action(async (f: { state: string }) => {
        const pid = await SwtpmProcess.stopByPidFile(f.state);
        process.stdout.write(pid === undefined ? 'no swtpm running\n' : `stopped pid ${pid}\n`);
      }),
    );
}
