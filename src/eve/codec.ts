/**
 * Protobuf codec for the EVE API: the generated namespaces under short names, `encode`/`decode` helpers that
 * behave like Go's protobuf (the controller and Adam are Go) and Timestamp conversions.
 */
import type { Writer } from 'protobufjs/minimal.js';
import { google, org } from '../gen/eve.js';

/* Short names for the generated namespaces; each works both as a value (`config.EdgeDevConfig.decode`) and as a
   type namespace (`config.IEdgeDevConfig`). */
/** `org.lfedge.eve.auth` (AuthContainer, AuthBody). */
export import auth = org.lfedge.eve.auth;
/** `org.lfedge.eve.common` (HashAlgorithm, CipherContext, CipherBlock, EncryptionBlock, …). */
export import common = org.lfedge.eve.common;
/** `org.lfedge.eve.certs` (ZControllerCert, ZCert, ZCertType, …). */
export import certs = org.lfedge.eve.certs;
/** `org.lfedge.eve.register` (ZRegisterMsg). */
export import register = org.lfedge.eve.register;
/** `org.lfedge.eve.uuid` (UuidRequest, UuidResponse). */
export import uuid = org.lfedge.eve.uuid;
/** `org.lfedge.eve.attest` (ZAttestReq, ZAttestResponse, …). */
export import attest = org.lfedge.eve.attest;
/** `org.lfedge.eve.config` (EdgeDevConfig, ConfigRequest, ConfigResponse, EdgeNodeCluster, …). */
export import config = org.lfedge.eve.config;
/** `org.lfedge.eve.info` (ZInfoMsg, ZInfoApp, ZInfoKubeCluster, …). */
export import info = org.lfedge.eve.info;
/** `org.lfedge.eve.metrics` (ZMetricMsg, …). */
export import metrics = org.lfedge.eve.metrics;
export { google, org };

/** A google.protobuf.Timestamp as plain data. */
export type Timestamp = google.protobuf.ITimestamp;

/** What `encode` needs of a generated message class. */
export interface Encodable<I> {
  encode(message: I, writer?: Writer): Writer;
  getTypeUrl(prefix?: string): string;
}

/** What `decode` needs of a generated message class. */
export interface Decodable<M> {
  decode(reader: Uint8Array, length?: number): M;
  getTypeUrl(prefix?: string): string;
}

/** Kinds of wire errors: `MALFORMED` = the bytes are not a valid serialization of the named message. */
export type WireErrorKind = 'MALFORMED';

/** A protobuf decode failure; `message` names the message type. */
export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly kind: WireErrorKind,
    /** Full protobuf name, e.g. `org.lfedge.eve.config.ConfigResponse`. */
    readonly messageType: string,
    message: string,
  ) {
    super(message);
  }
}

/** Type guard for WireError. */
export function isWireError(e: unknown): e is WireError {
  return e instanceof WireError;
}

/** Full protobuf name of a generated message class, e.g. `org.lfedge.eve.auth.AuthContainer`. */
export function messageTypeName(type: { getTypeUrl(prefix?: string): string }): string {
  return type.getTypeUrl('').replace(/^\//, '');
}

/**
 * Serializes `message` the way Go's protobuf does: proto3 fields holding their default value (0, false, '',
 * empty bytes, empty list) are left out even when set explicitly, so the bytes match what EVE/Adam produce.
 * Members of a oneof are always written (they have explicit presence; all EVE oneofs hold messages).
 */
export function encode<I extends object>(type: Encodable<I>, message: I): Buffer {
  const bytes = type.encode(stripDefaults(message) as I).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Parses `bytes` as the given message type. `bytes` fields of the result are Uint8Array views into `bytes`.
 * @throws WireError `MALFORMED` naming the message type when the bytes do not parse.
 */
export function decode<M>(type: Decodable<M>, bytes: Uint8Array): M {
  try {
    // A plain Uint8Array view selects protobufjs' bounds-checked Reader; its BufferReader reads strings past
    // the end of a truncated buffer without an error.
    return type.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    const name = messageTypeName(type);
    const reason = e instanceof Error ? e.message : 'invalid wire data';
    throw new WireError('MALFORMED', name, `malformed ${name}: ${reason}`);
  }
}

/** Converts a Date to a Timestamp (UTC seconds + nanoseconds). */
export function timestampFromDate(date: Date): Timestamp {
  return timestampFromMs(date.getTime());
}

/** Converts milliseconds since the Unix epoch to a Timestamp. */
export function timestampFromMs(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

/** Converts a Timestamp (or its absence = epoch) to milliseconds since the Unix epoch. */
export function timestampToMs(ts: Timestamp | null | undefined): number {
  if (!ts) return 0;
  return Number(ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** Converts a Timestamp to a Date. */
export function timestampToDate(ts: Timestamp | null | undefined): Date {
  return new Date(timestampToMs(ts));
}

/** Copy of a message object without proto3 default values (see `encode`). Decoded messages pass unchanged. */
function stripDefaults(value: object): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined || v === 0 || v === false || v === '') continue;
    if (v instanceof Uint8Array) {
      if (v.length > 0) out[k] = v;
    } else if (Array.isArray(v)) {
      if (v.length > 0) out[k] = v.map((x: unknown) => (isPlainMessage(x) ? stripDefaults(x) : x));
    } else if (isPlainMessage(v)) {
      out[k] = stripDefaults(v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

function isPlainMessage(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v) && !('low' in v && 'high' in v);
}
