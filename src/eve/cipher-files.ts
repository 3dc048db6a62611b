/**
 * File-level cipher operations behind `edgesim cipher encrypt|decrypt`: read PEM and protobuf files, locate a
 * CipherBlock inside a config, encrypt or decrypt it, and render the messages as protojson-style objects.
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { auth, common, config, decode, encode, type Decodable, type Encodable } from './codec.js';
import { decryptCipherBlock, encryptCipherBlock } from './cipher.js';
import { controllerZCertHash, deviceZCertHash } from './pem.js';
import { loadPrivateKeyPem, softEcdh } from './soft-keys.js';

/** Bad input to a cipher file operation; `flag` names the CLI flag (or field) at fault. */
export class CipherFileError extends Error {
  override readonly name = 'CipherFileError';
  constructor(
    readonly kind: 'BAD_INPUT' | 'IO',
    /** The flag or field the error is about, e.g. `--config` or `--field`. */
    readonly flag: string,
    message: string,
  ) {
    super(`${flag}: ${message}`);
  }
}

/** Type guard for CipherFileError. */
export function isCipherFileError(e: unknown): e is CipherFileError {
  return e instanceof CipherFileError;
}

/** protojson-style rendering options of the generated `toObject` (enum names, base64 bytes, 64-bit as strings). */
const JSON_STYLE = { longs: String, enums: String, bytes: String } as const;

/** Field names of EncryptionBlock (proto names), for validating `--field name=value`. */
const ENCRYPTION_BLOCK_FIELDS: readonly string[] = Object.keys(
  common.EncryptionBlock.toObject(common.EncryptionBlock.create(), { defaults: true }),
);

/**
 * Parses `name=value` assignments (the `--field` flag) into an object; the value may contain `=`.
 * @throws CipherFileError `BAD_INPUT` naming `--field`
 */
export function parseFieldAssignments(assignments: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new CipherFileError('BAD_INPUT', '--field', `expected name=value, got "${a}"`);
    fields[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return fields;
}

/** Options of `encryptCipherFiles` (controller side). */
export interface EncryptCipherFilesOptions {
  /** Device ECDH cert PEM file, exactly as the device published it. */
  deviceEcdhCertPath: string;
  /** Controller cert PEM file doing the ECDH (Adam `signing.pem` or `encrypt.pem`). */
  controllerCertPath: string;
  /** The private key of that cert (PKCS#8, SEC1 or EC PRIVATE KEY PEM). */
  controllerKeyPath: string;
  /** EncryptionBlock fields by proto name; bytes fields as base64, enums by name. */
  fields: Readonly<Record<string, string>>;
  /** IV override as 32 hex digits; default Eden's derivation. */
  initialValueHex?: string;
  /** When set, also write `ciphercontext.bin` and `cipherblock.bin` there. */
  outDir?: string;
}

/** Result of `encryptCipherFiles`: protojson-style context and block, plus the files written. */
export interface EncryptCipherFilesResult {
  cipherContext: Record<string, unknown>;
  cipherBlock: Record<string, unknown>;
  files: string[];
}

/** Encrypts an EncryptionBlock built from `fields` for the device ECDH cert (Eden algorithm). */
export async function encryptCipherFiles(opts: EncryptCipherFilesOptions): Promise<EncryptCipherFilesResult> {
  const names = Object.keys(opts.fields);
  if (names.length === 0) throw new CipherFileError('BAD_INPUT', '--field', 'give at least one EncryptionBlock field');
  for (const name of names) {
    if (!ENCRYPTION_BLOCK_FIELDS.includes(name)) {
      throw new CipherFileError('BAD_INPUT', '--field', `unknown EncryptionBlock field "${name}" (known: ${ENCRYPTION_BLOCK_FIELDS.join(', ')})`);
    }
  }
  let iv: Buffer | undefined;
  if (opts.initialValueHex !== undefined) {
    if (!/^[0-9a-fA-F]{32}$/.test(opts.initialValueHex)) throw new CipherFileError('BAD_INPUT', '--iv', 'expected 32 hex digits');
    iv = Buffer.from(opts.initialValueHex, 'hex');
  }
  const plain = common.EncryptionBlock.fromObject(opts.fields);
  const controllerKey = loadKey(await readInput(opts.controllerKeyPath, '--controller-key'), '--controller-key');
  const { context, block } = await encryptCipherBlock(plain, {
    controllerCertPem: await readInput(opts.controllerCertPath, '--controller-cert'),
    controllerEcdh: softEcdh(controllerKey),
    deviceEcdhCertPem: await readInput(opts.deviceEcdhCertPath, '--device-ecdh-cert'),
    ...(iv ? { initialValue: iv } : {}),
  });
  const contextBytes = encode(common.CipherContext, context);
  const blockBytes = encode(common.CipherBlock, block);
  const files: string[] = [];
  if (opts.outDir !== undefined) {
    await mkdir(opts.outDir, { recursive: true });
    for (const [name, bytes] of [['ciphercontext.bin', contextBytes], ['cipherblock.bin', blockBytes]] as const) {
      const file = path.join(opts.outDir, name);
      await writeFile(file, bytes);
      files.push(file);
    }
  }
  return {
    cipherContext: common.CipherContext.toObject(decode(common.CipherContext, contextBytes), JSON_STYLE),
    cipherBlock: common.CipherBlock.toObject(decode(common.CipherBlock, blockBytes), JSON_STYLE),
    files,
  };
}

/** Default `blockPath` of `decryptCipherFiles`: the cluster token. */
export const DEFAULT_CIPHER_BLOCK_PATH = 'cluster.encrypted_cluster_token';

/** Options of `decryptCipherFiles` (device side). */
export interface DecryptCipherFilesOptions {
  /** An EdgeDevConfig, a ConfigResponse, or the AuthContainer of a ConfigResponse (detected). */
  configPath: string;
  /** Proto-name path of the CipherBlock in the EdgeDevConfig, e.g. `apps.0.cipherData`; default the cluster token. */
  blockPath?: string;
  /** Device ECDH private key PEM. */
  ecdhKeyPath: string;
  /** Device ECDH cert PEM file, exactly as published (its hash is the lookup key). */
  deviceEcdhCertPath: string;
  /** Controller cert PEM files; looked up by SHA-256(trimmed PEM)[:16] as Adam hashes them. */
  controllerCertPaths: readonly string[];
}

/** Decrypts one CipherBlock of a config file and returns the EncryptionBlock protojson-style. */
export async function decryptCipherFiles(opts: DecryptCipherFilesOptions): Promise<Record<string, unknown>> {
  if (opts.controllerCertPaths.length === 0) throw new CipherFileError('BAD_INPUT', '--controller-cert', 'give at least one controller cert');
  const devConfig = configFromBytes(await readInput(opts.configPath, '--config'));
  const blockPath = opts.blockPath ?? DEFAULT_CIPHER_BLOCK_PATH;
  const block = cipherBlockAt(devConfig, blockPath);
  const controllerCerts = new Map<string, Uint8Array>();
  for (const p of opts.controllerCertPaths) {
    const pem = await readInput(p, '--controller-cert');
    controllerCerts.set(controllerZCertHash(pem).toString('hex'), pem);
  }
  const deviceCert = await readInput(opts.deviceEcdhCertPath, '--device-ecdh-cert');
  const eb = await decryptCipherBlock(block, devConfig.cipherContexts, {
    ecdhKey: softEcdh(loadKey(await readInput(opts.ecdhKeyPath, '--ecdh-key'), '--ecdh-key')),
    controllerCertsByHashHex: controllerCerts,
    deviceCertsByHashHex: new Map([[deviceZCertHash(deviceCert).toString('hex'), deviceCert]]),
  });
  return common.EncryptionBlock.toObject(eb, JSON_STYLE);
}

/**
 * The EdgeDevConfig inside `bytes`, which hold an AuthContainer of a ConfigResponse, a ConfigResponse, or an
 * EdgeDevConfig. A form is accepted only when it re-encodes to the same bytes (no field was unknown to it),
 * which tells the three apart. The AuthContainer's signature is not checked here.
 */
export function configFromBytes(bytes: Uint8Array): config.EdgeDevConfig {
  const ac = tryExact<auth.AuthContainer>(auth.AuthContainer, bytes);
  const payload = ac?.protectedPayload?.payload;
  if (payload && (ac.senderCertHash?.length ?? 0) > 0 && (ac.signatureHash?.length ?? 0) > 0) {
    const inner = tryExact<config.ConfigResponse>(config.ConfigResponse, payload);
    if (inner?.config) return config.EdgeDevConfig.fromObject(inner.config);
  }
  const resp = tryExact<config.ConfigResponse>(config.ConfigResponse, bytes);
  if (resp?.config) return config.EdgeDevConfig.fromObject(resp.config);
  const cfg = tryExact<config.EdgeDevConfig>(config.EdgeDevConfig, bytes);
  if (cfg) return cfg;
  throw new CipherFileError('BAD_INPUT', '--config', 'not an EdgeDevConfig, ConfigResponse or AuthContainer of a ConfigResponse');
}

/** The CipherBlock at a proto-name path (`a.b`, `a.0.b` or `a[0].b`) of an EdgeDevConfig. */
export function cipherBlockAt(devConfig: config.IEdgeDevConfig, blockPath: string): common.ICipherBlock {
  let node: unknown = devConfig;
  const parts = blockPath.replace(/\[(\d+)\]/g, '.$1').split('.').filter((p) => p !== '');
  for (const part of parts) {
    if (node === null || typeof node !== 'object' || !(part in node)) {
      throw new CipherFileError('BAD_INPUT', '--block', `"${blockPath}": no field "${part}" in the config`);
    }
    node = (node as Record<string, unknown>)[part];
  }
  if (node === null || typeof node !== 'object' || !('cipherContextId' in node)) {
    throw new CipherFileError('BAD_INPUT', '--block', `"${blockPath}" is not a CipherBlock in the config`);
  }
  return node as common.ICipherBlock;
}

function tryExact<M extends object>(type: Encodable<M> & Decodable<M>, bytes: Uint8Array): M | undefined {
  try {
    const m = decode(type, bytes);
    return encode(type, m).equals(Buffer.from(bytes)) ? m : undefined;
  } catch {
    return undefined;
  }
}

async function readInput(file: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new CipherFileError('IO', flag, `cannot read ${file}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}

function loadKey(pem: Buffer, flag: string): ReturnType<typeof loadPrivateKeyPem> {
  try {
    return loadPrivateKeyPem(pem);
  } catch (e) {
    throw new CipherFileError('BAD_INPUT', flag, e instanceof Error ? e.message : 'unusable key');
  }
}
