/**
 * `edgesim cipher encrypt|decrypt`: object-level encryption of EVE (CipherContext/CipherBlock) from files, for
 * building and checking encrypted config values by hand. Logic lives in src/eve (cipher-files.ts).
 */
import type { Command } from 'commander';
import { cliAction } from './process.js';
import {
  DEFAULT_CIPHER_BLOCK_PATH,
  decryptCipherFiles,
  encryptCipherFiles,
  isCipherError,
  isCipherFileError,
  parseFieldAssignments,
  type EncryptCipherFilesOptions,
} from '../eve/index.js';

interface EncryptFlags {
  deviceEcdhCert: string;
  controllerCert: string;
  controllerKey: string;
  clusterToken?: string;
  field: string[];
  iv?: string;
  outDir?: string;
  output: string;
}

interface DecryptFlags {
  config: string;
  block: string;
  ecdhKey: string;
  deviceEcdhCert: string;
  controllerCert: string[];
  output: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Prints an object as JSON (default) or as `key: value` lines (`--output table`). */
function print(obj: Record<string, unknown>, output: string): void {
  if (output === 'table') {
    for (const [k, v] of Object.entries(obj)) process.stdout.write(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
  } else {
    process.stdout.write(JSON.stringify(obj, null, 2) + '\n');
  }
}

const action = cliAction('cipher', {
  badInput: (e) => isCipherFileError(e) && e.kind === 'BAD_INPUT',
  detail: (e) => (isCipherError(e) ? `\nedgesim cipher: error class ${e.kind}` : ''),
});

/** Registers `edgesim cipher …`. */
export function registerCipherCommands(program: Command): void {
  const cipher = program
    .command('cipher')
    .description('Encrypt (controller side) or decrypt (device side) EVE CipherBlocks: ECDH P-256, SHA-256(X‖Y), AES-256-CFB.');

  cipher
    .command('encrypt')
    .description('Build a CipherContext and CipherBlock for a device, as Eden does (controller side).')
    .requiredOption('--device-ecdh-cert <pem>', "the device's ECDH cert exactly as it published it, e.g. certs/device-ecdh.pem")
    .requiredOption('--controller-cert <pem>', 'controller cert doing the ECDH (signing.pem or encrypt.pem), e.g. certs/controller-encrypt.pem')
    .requiredOption('--controller-key <pem>', 'private key of --controller-cert (PKCS#8, SEC1 or EC PRIVATE KEY PEM)')
    .option('--cluster-token <token>', 'shortcut for --field cluster_token=<token>, e.g. K10-test-token')
    .option('--field <name=value>', 'an EncryptionBlock field by proto name (repeatable; bytes as base64, enums by name), e.g. dsPassword=secret', collect, [])
    .option('--iv <hex>', "initial value, 32 hex digits (default: Eden's SHA-256(controllerCertHash[:8] ‖ deviceCertHash[:8])[:16])")
    .option('--out-dir <dir>', 'also write ciphercontext.bin and cipherblock.bin into this directory (default: none)')
    .option('--output <format>', 'json or table', 'json')
    .addHelpText('after', '\nExample:\n  edgesim cipher encrypt --device-ecdh-cert device-ecdh.pem --controller-cert encrypt.pem \\\n    --controller-key encrypt-key.pem --cluster-token K10-test-token\nPrints {cipherContext, cipherBlock} in protojson style (bytes base64, enums by name).')
    .action(
      action(async (o: EncryptFlags) => {
        const fields = parseFieldAssignments(o.field);
        if (o.clusterToken !== undefined) fields['cluster_token'] = o.clusterToken;
        const opts: EncryptCipherFilesOptions = {
          deviceEcdhCertPath: o.deviceEcdhCert,
          controllerCertPath: o.controllerCert,
          controllerKeyPath: o.controllerKey,
          fields,
          ...(o.iv !== undefined ? { initialValueHex: o.iv } : {}),
          ...(o.outDir !== undefined ? { outDir: o.outDir } : {}),
        };
        const r = await encryptCipherFiles(opts);
        print({ cipherContext: r.cipherContext, cipherBlock: r.cipherBlock, ...(r.files.length > 0 ? { files: r.files } : {}) }, o.output);
      }),
    );

  cipher
    .command('decrypt')
    .description('Decrypt a CipherBlock of a config as the device does and print the EncryptionBlock (device side).')
    .requiredOption('--config <file>', 'EdgeDevConfig .bin, ConfigResponse .bin, or the AuthContainer of a ConfigResponse (detected; signature not checked)')
    .option('--block <path>', 'proto-name path of the CipherBlock in the EdgeDevConfig, e.g. apps.0.cipherData', DEFAULT_CIPHER_BLOCK_PATH)
    .requiredOption('--ecdh-key <pem>', "the device's ECDH private key, e.g. certs/device-ecdh.key.pem")
    .requiredOption('--device-ecdh-cert <pem>', "the device's ECDH cert exactly as published (its SHA-256[:16] is the lookup key)")
    .requiredOption('--controller-cert <pem>', 'a controller cert (repeatable); matched by SHA-256(trimmed PEM)[:16]', collect, [])
    .option('--output <format>', 'json or table', 'json')
    .addHelpText('after', '\nExample:\n  edgesim cipher decrypt --config configresponse.authcontainer.bin --ecdh-key device-ecdh.key.pem \\\n    --device-ecdh-cert device-ecdh.pem --controller-cert signing.pem --controller-cert encrypt.pem')
    .action(
      action(async (o: DecryptFlags) => {
        const eb = await decryptCipherFiles({
          configPath: o.config,
          blockPath: o.block,
          ecdhKeyPath: o.ecdhKey,
          deviceEcdhCertPath: o.deviceEcdhCert,
          controllerCertPaths: o.controllerCert,
        });
        print(eb, o.output);
      }),
    );
}
