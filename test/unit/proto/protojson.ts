/**
 * A small Go-protojson-compatible printer (UseProtoNames, EmitUnpopulated false) driven by protobufjs reflection
 * over proto/, to compare decoded messages with the vectors' *.json files: proto field names, bytes as standard
 * base64, 64-bit integers as strings, enums by name, Timestamps as RFC 3339, proto3 defaults absent.
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import { repoRoot } from '../../helpers/cli.js';

const protoDir = path.join(repoRoot, 'proto');
const PROTO_FILES = [
  'auth/auth.proto',
  'certs/certs.proto',
  'register/register.proto',
  'eveuuid/eveuuid.proto',
  'attest/attest.proto',
  'config/devconfig.proto',
  'info/info.proto',
  'metrics/metrics.proto',
];

let root: protobuf.Root | undefined;

/** The reflection type of a full message name (e.g. `org.lfedge.eve.config.EdgeDevConfig`). */
export function reflectType(fullName: string): protobuf.Type {
  if (!root) {
    const r = new protobuf.Root();
    r.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(protoDir, target));
    r.loadSync(PROTO_FILES.map((f) => path.join(protoDir, f)), { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root.lookupType(fullName);
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** protojson of a decoded message (static-module object) of the given type. */
export function toProtoJson(type: protobuf.Type, message: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const msg = message as Record<string, unknown>;
  for (const field of type.fieldsArray.slice().sort((a, b) => a.id - b.id)) {
    if (!Object.prototype.hasOwnProperty.call(msg, field.name)) continue;
    const value = msg[field.name];
    if (value === null || value === undefined) continue;
    if (field.repeated) {
      const list = value as unknown[];
      if (list.length === 0) continue;
      out[field.name] = list.map((v) => scalarOrMessage(field, v));
      continue;
    }
    // proto3 implicit presence: a default scalar is never printed; oneof members and messages always are.
    if (!field.partOf && isDefaultScalar(value)) continue;
    out[field.name] = scalarOrMessage(field, value);
  }
  return out;
}

function scalarOrMessage(field: protobuf.Field, value: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    if (rt.fullName === '.google.protobuf.Timestamp') return rfc3339(value as { seconds?: unknown; nanos?: number });
    return toProtoJson(rt, value as object);
  }
  if (rt instanceof protobuf.Enum) return rt.valuesById[value as number] ?? value;
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  if (LONG_TYPES.has(field.type)) return String(value);
  return value;
}

function isDefaultScalar(v: unknown): boolean {
  return v === 0 || v === '' || v === false || (v instanceof Uint8Array && v.length === 0);
}

/** Go protojson Timestamp: UTC, 'Z', fractional seconds with 0, 3, 6 or 9 digits. */
function rfc3339(ts: { seconds?: unknown; nanos?: number }): string {
  const seconds = Number(ts.seconds ?? 0);
  const nanos = ts.nanos ?? 0;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  let frac = String(nanos).padStart(9, '0');
  while (frac.endsWith('000')) frac = frac.slice(0, -3);
  return `${base}.${frac}Z`;
}
