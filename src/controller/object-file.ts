/**
 * Reads the files operators hand to the CLI: configs and cluster definitions as YAML or JSON, and PEM
 * certificates. Kept here so the CLI does no file I/O of its own.
 */
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';
import { errorMessage } from '../common/index.js';
import { ControllerError } from './errors.js';

async function read(file: string, field: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new ControllerError('INVALID_INPUT', `${field}: cannot read ${file}: ${errorMessage(e)}`, { field });
  }
}

/**
 * Parses a YAML or JSON file (JSON is valid YAML) into an object. Write 64-bit integers as strings
 * (as protojson does) to keep values beyond 2^53 exact.
 */
export async function readObjectFile(file: string, field = 'file'): Promise<Record<string, unknown>> {
  const text = await read(file, field);
  let value: unknown;
  try {
    value = YAML.parse(text);
  } catch (e) {
    throw new ControllerError('INVALID_INPUT', `${field}: ${file} is not valid YAML/JSON: ${errorMessage(e)}`, { field });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ControllerError('INVALID_INPUT', `${field}: ${file} must hold one object (a mapping)`, { field });
  }
  return value as Record<string, unknown>;
}

/** Reads a PEM certificate file; throws naming `field` when it holds no CERTIFICATE block. */
export async function readPemFile(file: string, field = 'cert'): Promise<string> {
  const text = await read(file, field);
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ControllerError('INVALID_INPUT', `${field}: ${file} holds no PEM certificate`, { field });
  }
  return text;
}
