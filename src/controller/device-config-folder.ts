/**
 * Writes an EVE device config folder (eve-api.md §6: `/config/server`, `root-certificate.pem`,
 * `onboard.cert.pem`, `onboard.key.pem`, `soft_serial`) from the controller's bundle.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeviceConfigBundle } from './admin-types.js';

/** Writes the folder (created when missing, files replaced); the onboarding key is 0600. Returns the paths. */
export async function writeDeviceConfigFolder(outDir: string, bundle: DeviceConfigBundle, softSerial: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files: [string, string, number][] = [
    ['server', bundle.server + '\n', 0o644],
    ['root-certificate.pem', bundle.rootCertPem, 0o644],
    ['onboard.cert.pem', bundle.onboardCertPem, 0o644],
    ['onboard.key.pem', bundle.onboardKeyPem, 0o600],
    ['soft_serial', softSerial + '\n', 0o644],
  ];
  const written: string[] = [];
  for (const [name, content, mode] of files) {
    const p = path.join(outDir, name);
    await writeFile(p, content, { mode });
    // writeFile keeps the mode of an existing file; force it so an old 0644 key file becomes 0600.
    await chmod(p, mode);
    written.push(p);
  }
  return written;
}
