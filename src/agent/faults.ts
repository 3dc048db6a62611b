/**
 * Faults the operator can inject into one agent (admin API / `edgesim ctl fault`), each optionally for a duration.
 * Components consult the FaultSet at the point where the real failure would happen; nothing else changes.
 */
import type { Clock } from '../common/index.js';
import { TpmError, type KeyStore } from '../tpm/index.js';

/** Every fault kind the agent understands. */
export const FAULT_KINDS = [
  'controller-unreachable', // every controller request fails as if the network were down
  'controller-5xx', // every controller request answers 503 without being sent
  'controller-delay', // every controller request is delayed by `value` ms
  'cluster-interface-down', // the cluster interface is taken down (partition)
  'k3s-killed', // the k3s process is killed once (the supervisor restarts it)
  'k3s-stopped', // k3s is stopped and not restarted until cleared
  'heartbeats-paused', // k3s node status posts pause (k3s stopped with SIGSTOP)
  'tpm-unavailable', // every TPM operation fails
  'clock-skew', // the agent's wall clock is off by `value` ms
  'status-server-down', // the cluster status server on :12346 is stopped
  'config-tamper', // config replies get a flipped payload byte before verification
  'config-loop-stall', // the config loop hangs at its next pass until cleared (systemd watchdog pings stop)
  'queue-drop', // queued infos the queue sends are dropped unsent, as on a 4xx (a planted loss for the no-info-lost check)
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** One active fault. */
export interface Fault {
  kind: FaultKind;
  /** Kind-specific value: ms for controller-delay and clock-skew, the HTTP status for controller-5xx. */
  value?: number;
  /** Epoch ms when it clears by itself; undefined = until cleared. */
  untilMs?: number;
}

/** Raised when a fault request is not understood. */
export class FaultError extends Error {
  override readonly name = 'FaultError';
}

/** The active faults of one agent; listeners hear every change (components react, the admin API streams it). */
export class FaultSet {
  private readonly active = new Map<FaultKind, Fault>();
  private readonly listeners = new Set<(kind: FaultKind, active: boolean) => void>();

  constructor(private readonly clock: Clock) {}

  /** Activates a fault; `durationMs` (spec ms, scaled by the clock) makes it clear by itself. */
  inject(kind: string, opts: { value?: number; durationMs?: number } = {}): Fault {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new FaultError(`fault "${kind}" is not one of: ${FAULT_KINDS.join(', ')}`);
    }
    if (opts.durationMs !== undefined && !(opts.durationMs > 0)) throw new FaultError('duration must be positive');
    const k = kind as FaultKind;
    const fault: Fault = {
      kind: k,
      ...(opts.value !== undefined ? { value: opts.value } : {}),
      ...(opts.durationMs !== undefined ? { untilMs: this.clock.now() + this.clock.scaled(opts.durationMs) } : {}),
    };
    this.active.set(k, fault);
    this.emit(k, true);
    if (fault.untilMs !== undefined) {
      const stop = this.clock.every(Math.max(50, opts.durationMs! / 20), () => {
        if (this.active.get(k) !== fault) return stop();
        if (this.clock.now() >= fault.untilMs!) {
          stop();
          this.clear(k);
        }
      });
    }
    return fault;
  }

  /** Clears one fault (or all with 'all'); returns the kinds cleared. */
  clear(kind: string): FaultKind[] {
    const kinds = kind === 'all' ? [...this.active.keys()] : this.active.has(kind as FaultKind) ? [kind as FaultKind] : [];
    for (const k of kinds) {
      this.active.delete(k);
      this.emit(k, false);
    }
    return kinds;
  }

  /** The fault of that kind when active. */
  get(kind: FaultKind): Fault | undefined {
    return this.active.get(kind);
  }

  has(kind: FaultKind): boolean {
    return this.active.has(kind);
  }

  list(): Fault[] {
    return [...this.active.values()];
  }

  /** Resolves once `kind` is not active (at once when it is not); rejects with AbortError when `signal` fires. */
  untilCleared(kind: FaultKind, signal: AbortSignal): Promise<void> {
    if (!this.has(kind)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        off();
        signal.removeEventListener('abort', aborted);
      };
      const aborted = (): void => {
        done();
        reject(new DOMException('stopped while a fault held the loop', 'AbortError'));
      };
      const off = this.onChange((k, active) => {
        if (k !== kind || active) return;
        done();
        resolve();
      });
      if (signal.aborted) aborted();
      else signal.addEventListener('abort', aborted, { once: true });
    });
  }

  /** Hears every inject/clear; returns an unsubscribe function. */
  onChange(listener: (kind: FaultKind, active: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(kind: FaultKind, active: boolean): void {
    for (const l of this.listeners) l(kind, active);
  }
}

/**
 * The agent's clock with the `clock-skew` fault applied to the wall clock `now()` only: timestamps are skewed,
 * durations (measured with `monotonic()`) and timers are not.
 */
export function skewedClock(clock: Clock, faults: FaultSet): Clock {
  return { ...clock, now: () => clock.now() + (faults.get('clock-skew')?.value ?? 0) };
}

/** The key store with the `tpm-unavailable` fault: every key operation fails as if the TPM did not answer. */
export function faultyKeyStore(keys: KeyStore, faults: FaultSet): KeyStore {
  const check = (op: string): void => {
    if (faults.has('tpm-unavailable')) {
      throw new TpmError('UNREACHABLE', op, `TPM unavailable (injected fault): ${op} failed`);
    }
  };
  return {
    kind: keys.kind,
    description: keys.description,
    provision: (signal) => (check('provision'), keys.provision(signal)),
    deviceSigner: {
      signDigest: async (d, signal) => (check('sign'), keys.deviceSigner.signDigest(d, signal)),
      ...(keys.deviceSigner.sign ? { sign: async (m: Uint8Array, signal?: AbortSignal) => (check('sign'), keys.deviceSigner.sign!(m, signal)) } : {}),
    },
    ecdh: { zgen: async (p, signal) => (check('ecdh-zgen'), keys.ecdh.zgen(p, signal)) },
    quote: async (nonce, signal) => (check('quote'), keys.quote(nonce, signal)),
    info: (signal) => keys.info(signal),
    close: () => keys.close(),
  };
}
