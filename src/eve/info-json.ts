/**
 * A ZInfoMsg as the controller stores it (protojson-style JSON), and the identity of one message that both sides
 * can compute: the agent names what it produced by it, and a check on the controller side (the scenario invariant
 * `no-info-lost`) finds the same message — or a newer one about the same object — among what was stored.
 */
import { createHash } from 'node:crypto';
import { decode, info } from './codec.js';

/** protojson-like rendering of the generated toObject (enum names, 64-bit as strings, bytes base64). */
export const PROTO_JSON = { longs: String, enums: String, bytes: String, json: true } as const;

/** The stored JSON form of a decoded ZInfoMsg. */
export function infoJson(msg: info.ZInfoMsg): Record<string, unknown> {
  return info.ZInfoMsg.toObject(msg, PROTO_JSON);
}

/** The stored JSON form of an encoded ZInfoMsg (the controller keeps infos encoded and renders them when read). */
export function infoJsonOf(payload: Uint8Array): Record<string, unknown> {
  return infoJson(decode(info.ZInfoMsg, payload));
}

/** One info message, named the same way by its sender and by whoever reads it back from the controller. */
export interface InfoIdentity {
  /**
   * The object it reports on: its InfoContent field, with the object's id where the content has one
   * (`ainfo:<AppID>`, `vinfo:<uuid>`, `cinfo:<uuid>`, `cluster_node`, `dinfo`, …). Never finer than the agent's
   * queue keys, so "newest per object" holds under the queue's latest-wins rule.
   */
  objectKey: string;
  /** sha256 (hex, 32 chars) of the stored JSON text (key order survives a JSON round trip). */
  fingerprint: string;
  /** `atTimeStamp` in epoch ms (0 when absent). */
  madeAt: number;
}

/** The id field of the InfoContent kinds that report on one of several objects. */
const OBJECT_ID: Record<string, string> = { ainfo: 'AppID', vinfo: 'uuid', cinfo: 'uuid' };
const ENVELOPE = new Set(['ztype', 'devId', 'atTimeStamp']);

/** The identity of a ZInfoMsg in its stored JSON form. */
export function infoIdentityOfJson(json: Record<string, unknown>): InfoIdentity {
  const content = Object.keys(json).find((k) => !ENVELOPE.has(k)) ?? 'none';
  const idField = OBJECT_ID[content];
  const id = idField ? (json[content] as Record<string, unknown> | undefined)?.[idField] : undefined;
  const t = json.atTimeStamp as { seconds?: string | number; nanos?: number } | undefined;
  return {
    objectKey: typeof id === 'string' && id !== '' ? `${content}:${id}` : content,
    fingerprint: createHash('sha256').update(JSON.stringify(json)).digest('hex').slice(0, 32),
    madeAt: t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0,
  };
}

/** The identity of an encoded ZInfoMsg (an info queue payload), as the controller will store it. */
export function infoIdentity(payload: Uint8Array): InfoIdentity {
  return infoIdentityOfJson(infoJsonOf(payload));
}
