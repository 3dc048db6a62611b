/**
 * The `no-info-lost` invariant: for every node and object, the newest info the agent produced must reach the
 * controller's store — that very message, or a newer one about the same object (the queue's latest-wins rule may
 * replace an unsent one; it must never lose the newest). What was produced comes from each agent's watch stream
 * (`info.queued` events carry the message's identity) and, after a kill -9, from its on-disk queue; what was stored
 * comes from the controller's info log. The check itself is pure.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseStoredSlot } from '../agent/index.js';
import { infoIdentity, type InfoIdentity } from '../eve/index.js';

/** One produced info: its identity and the agent's queue key (for the report). */
export interface ProducedInfo extends InfoIdentity {
  queueKey: string;
}

interface StoredObject {
  fingerprints: Set<string>;
  newestMadeAt: number;
}

/** Per node: the newest produced info of each object, and the identities the controller stored. */
export class InfoLedger {
  private readonly produced: Array<Map<string, ProducedInfo>>;
  private readonly stored: Array<Map<string, StoredObject>>;

  constructor(nodes: number) {
    this.produced = Array.from({ length: nodes }, () => new Map<string, ProducedInfo>());
    this.stored = Array.from({ length: nodes }, () => new Map<string, StoredObject>());
  }

  /**
   * Records an info node `i` produced. In production order (the watch stream) a later one replaces; from a queue read
   * (`onlyIfNewer`) it replaces only an older one.
   */
  produce(i: number, p: ProducedInfo, onlyIfNewer = false): void {
    const cur = this.produced[i].get(p.objectKey);
    if (onlyIfNewer && cur && cur.madeAt > p.madeAt) return;
    this.produced[i].set(p.objectKey, p);
  }

  /** Records an info of node `i` the controller stored. */
  store(i: number, id: InfoIdentity): void {
    const s = this.stored[i].get(id.objectKey) ?? { fingerprints: new Set<string>(), newestMadeAt: 0 };
    s.fingerprints.add(id.fingerprint);
    s.newestMadeAt = Math.max(s.newestMadeAt, id.madeAt);
    this.stored[i].set(id.objectKey, s);
  }

  /** Number of objects with a produced info, over the given nodes. */
  producedCount(nodes: number[]): number {
    return nodes.reduce((n, i) => n + this.produced[i].size, 0);
  }

  /** The newest produced infos of `nodes` that the controller does not hold (nor a newer one of the same object). */
  lost(nodes: number[]): Array<{ node: number; info: ProducedInfo }> {
    const out: Array<{ node: number; info: ProducedInfo }> = [];
    for (const i of nodes) {
      for (const p of this.produced[i].values()) {
        const s = this.stored[i].get(p.objectKey);
        if (s && (s.fingerprints.has(p.fingerprint) || s.newestMadeAt > p.madeAt)) continue;
        out.push({ node: i, info: p });
      }
    }
    return out;
  }
}

/**
 * The info items in a stopped agent's queue folder (`<state>/queue`): what it produced and had not delivered when it
 * was killed. Read-only; an unreadable file is skipped (the agent's own load drops it too).
 */
export async function queuedInfos(queueDir: string): Promise<ProducedInfo[]> {
  const out: ProducedInfo[] = [];
  for (const name of await readdir(queueDir).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    try {
      const slot = parseStoredSlot(await readFile(path.join(queueDir, name), 'utf8'));
      if (slot.action === 'info') out.push({ queueKey: slot.key, ...infoIdentity(slot.payload) });
    } catch {
      // Gone meanwhile or unreadable: the agent would drop it too.
    }
  }
  return out;
}
