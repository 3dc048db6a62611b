/**
 * Reads an EVE-style device config folder (eve-api.md §6): `server`, `root-certificate.pem`,
 * optional `onboard.cert.pem` + `onboard.key.pem`, optional `soft_serial` and `serial`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** What the agent knows about its controller and onboarding before it has a UUID. */
export interface DeviceConfigFolder {
  /** Controller `host[:port]` (file `server`), without scheme. */
  server: string;
  /** PEM bundle trusted for TLS and for the controller's certificate chain. */
  rootCertPem: Buffer;
  /** Onboarding cert + key, when both files exist. */
  onboarding?: { certPem: Buffer; keyPem: Buffer };
  /** Hardware serial (file `serial`; the simulator's stand-in for DMI). */
  serial: string;
  /** Soft serial (file `soft_serial`). */
  softSerial: string;
}

/** Raised when the config folder is unusable; `file` names the offending file. */
export class DeviceConfigError extends Error {
  override readonly name = 'DeviceConfigError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`config folder: ${file}: ${reason}`);
  }
}

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DeviceConfigError(path.basename(file), (e as Error).message);
  }
}

/** Loads and validates the folder; throws DeviceConfigError naming the file and the reason. */
export async function readDeviceConfigFolder(dir: string): Promise<DeviceConfigFolder> {
  const at = (f: string): string => path.join(dir, f);
  const serverRaw = await readOptional(at('server'));
  if (!serverRaw) throw new DeviceConfigError('server', `missing in ${dir} (expected "host[:port]")`);
  const server = serverRaw.toString('utf8').trim().replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!/^[A-Za-z0-9.\-[\]:]+$/.test(server)) throw new DeviceConfigError('server', `"${server}" is not host[:port]`);

  const rootCertPem = await readOptional(at('root-certificate.pem'));
  if (!rootCertPem) throw new DeviceConfigError('root-certificate.pem', `missing in ${dir}`);
  if (!rootCertPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new DeviceConfigError('root-certificate.pem', 'holds no PEM certificate');
  }

  const certPem = await readOptional(at('onboard.cert.pem'));
  const keyPem = await readOptional(at('onboard.key.pem'));
  if (!!certPem !== !!keyPem) {
    throw new DeviceConfigError(certPem ? 'onboard.key.pem' : 'onboard.cert.pem', 'missing while its pair exists');
  }
  const serial = (await readOptional(at('serial')))?.toString('utf8').trim() ?? '';
  const softSerial = (await readOptional(at('soft_serial')))?.toString('utf8').trim() ?? '';
  if (softSerial && !/^[a-zA-Z0-9_-]{1,256}$/.test(softSerial)) {
    throw new DeviceConfigError('soft_serial', 'must be 1-256 characters of [a-zA-Z0-9_-]');
  }
  return {
    server,
    rootCertPem,
    ...(certPem && keyPem ? { onboarding: { certPem, keyPem } } : {}),
    serial,
    softSerial,
  };
}
