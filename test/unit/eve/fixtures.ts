/** Access to the shared known-answer vectors for the src/eve tests. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { vectorsDir } from '../../helpers/cli.js';

/** Bytes of a vector file, path relative to the vectors folder. */
export function vec(rel: string): Buffer {
  return readFileSync(path.join(vectorsDir, rel));
}

/** A parsed JSON vector file. */
export function vecJson<T>(rel: string): T {
  return JSON.parse(vec(rel).toString('utf8')) as T;
}

/** One entry of certs/keys.json. */
export interface KeyEntry {
  certFile: string;
  keyFile: string;
  privateKeyHex: string;
  publicXHex: string;
  publicYHex: string;
  sha256OfDerHex: string;
  sha256OfPemFileHex: string;
  sha256OfTrimmedPemHex: string;
}

/** certs/keys.json by name (root-ca, controller-signing, controller-encrypt, onboard, device, device-ecdh). */
export function keyEntries(): Record<string, KeyEntry> {
  return vecJson<{ keys: Record<string, KeyEntry> }>('certs/keys.json').keys;
}

/** Lower-case hex to bytes. */
export function hex(s: string): Buffer {
  return Buffer.from(s, 'hex');
}
