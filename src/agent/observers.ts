/**
 * Observers of the agent's work for the operations side (Prometheus metrics, the systemd watchdog): what the event
 * stream does not carry because it is a measurement or happens on every timer tick — each config request with its
 * result and duration, each key store (TPM) operation with its duration, and the passes of the agent's main loops.
 * Durations are real milliseconds (performance.now), whatever the clock's time scale or the clock-skew fault.
 */
import type { KeyStore } from '../tpm/index.js';

/** How one config request ended (the branches of the agent's config poll, eve-api.md §6). */
export type ConfigFetchResult =
  | 'accepted' // a new config verified and was accepted
  | 'unchanged' // the controller answered "no change" (same configHash)
  | 'rejected' // an answer that failed verification or parsing; the previous config is kept
  | 'refused' // 403: the integrity token is not accepted, attestation restarts
  | 'http-error' // another error status (5xx…); retried on the next poll
  | 'unreachable' // no HTTP answer (network, TLS, timeout)
  | 'tpm-error'; // the request was not sent: the TPM could not sign it

/** A key store operation: `sign` (device key), `ecdh` (TPM2_ECDH_ZGen), `quote` (TPM2_Quote), `provision`, `info`. */
export type KeyStoreOp = 'provision' | 'sign' | 'ecdh' | 'quote' | 'info';

/** The agent's long-running loops whose passes the watchdog follows. */
export type AgentLoop = 'config' | 'device-info';

/** Hooks called synchronously by the agent; each must return quickly and never throw. */
export interface AgentObserver {
  /** One config request ended, `ms` after it started (signing, the exchange, verification, acceptance). */
  configFetch?(result: ConfigFetchResult, ms: number): void;
  /** One key store operation ended; `ok` false when it threw (a TPM error or the tpm-unavailable fault). */
  keyStoreOp?(op: KeyStoreOp, ms: number, ok: boolean): void;
  /** A loop started a pass (`busy` true) or finished it and waits for its next timer (`busy` false). */
  loopPass?(loop: AgentLoop, busy: boolean): void;
}

/** The observers registered with one agent; the agent reports through it. */
export class AgentObservers {
  private readonly set = new Set<AgentObserver>();

  /** Registers an observer; returns the function that removes it. */
  add(o: AgentObserver): () => void {
    this.set.add(o);
    return () => this.set.delete(o);
  }

  /** Runs one config request and reports its result and duration (nothing when it ends by abort). */
  async timeConfigFetch(fetch: () => Promise<ConfigFetchResult>): Promise<void> {
    const t0 = performance.now();
    const result = await fetch();
    const ms = performance.now() - t0;
    for (const o of this.set) o.configFetch?.(result, ms);
  }

  /** Runs one pass of `loop`, reported as busy from start to end (also when it throws). */
  async pass(loop: AgentLoop, body: () => Promise<void>): Promise<void> {
    for (const o of this.set) o.loopPass?.(loop, true);
    try {
      await body();
    } finally {
      for (const o of this.set) o.loopPass?.(loop, false);
    }
  }

  /** Reports one key store operation. */
  keyStoreOp(op: KeyStoreOp, ms: number, ok: boolean): void {
    for (const o of this.set) o.keyStoreOp?.(op, ms, ok);
  }
}

/**
 * The key store with every operation timed and reported to `observers` (the TPM op latency metric); results and
 * errors pass through unchanged. Wraps the outside of the fault decorator, so an injected TPM failure is seen too.
 */
export function timedKeyStore(keys: KeyStore, observers: AgentObservers): KeyStore {
  const timed = async <T>(op: KeyStoreOp, call: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      const r = await call();
      observers.keyStoreOp(op, performance.now() - t0, true);
      return r;
    } catch (e) {
      observers.keyStoreOp(op, performance.now() - t0, false);
      throw e;
    }
  };
  return {
    kind: keys.kind,
    description: keys.description,
    provision: (signal) => timed('provision', () => keys.provision(signal)),
    deviceSigner: {
      signDigest: (d, signal) => timed('sign', () => keys.deviceSigner.signDigest(d, signal)),
      ...(keys.deviceSigner.sign ? { sign: (m, signal) => timed('sign', () => keys.deviceSigner.sign!(m, signal)) } : {}),
    },
    ecdh: { zgen: (p, signal) => timed('ecdh', () => keys.ecdh.zgen(p, signal)) },
    quote: (nonce, signal) => timed('quote', () => keys.quote(nonce, signal)),
    info: (signal) => timed('info', () => keys.info(signal)),
    close: () => keys.close(),
  };
}
