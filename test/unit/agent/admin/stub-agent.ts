/**
 * A stand-in for the Agent in unit tests of the operations side: the real Agent needs a controller, which the
 * integration tests (test/integration/ops/) provide; here the status is set by the test.
 */
import { FaultSet, type AgentEvent, type AgentObserver, type AgentStatus, type ConfigListener } from '../../../../src/agent/index.js';
import type { Clock } from '../../../../src/common/index.js';
import type { KeyStore } from '../../../../src/tpm/index.js';

/** An OperatedAgent with a settable status, a real FaultSet and event/config listeners the test drives. */
export class StubAgent {
  readonly faults: FaultSet;
  readonly keyStore = { kind: 'soft', description: 'soft (NOT hardware-protected)' } as KeyStore;
  readonly events = new Set<(e: AgentEvent) => void>();
  readonly configListeners: ConfigListener[] = [];
  /** Observers registered through `observe`; the test calls their hooks as the agent would. */
  readonly observers = new Set<AgentObserver>();
  statusValue: AgentStatus = {
    phase: 'running',
    deviceUuid: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
    keyStore: 'soft (NOT hardware-protected)',
    controllerReachable: true,
    attested: true,
    lastConfigHash: 'abc123',
    lastConfigAtMs: 1_700_000_000_000,
    configSource: 'controller',
    lastConfigError: undefined,
    queueDepth: 2,
    queueOldestAgeMs: 1234.5,
    cluster: undefined,
  };
  constructor(private readonly clock: Clock) {
    this.faults = new FaultSet(clock);
  }
  status(): AgentStatus {
    return this.statusValue;
  }
  onEvent(l: (e: AgentEvent) => void): () => void {
    this.events.add(l);
    return () => this.events.delete(l);
  }
  onConfig(l: ConfigListener): void {
    this.configListeners.push(l);
  }
  observe(o: AgentObserver): () => void {
    this.observers.add(o);
    return () => this.observers.delete(o);
  }
  emit(kind: string, message: string, fields?: Record<string, unknown>): void {
    for (const l of this.events) l({ timeMs: this.clock.now(), kind, message, ...(fields ? { fields } : {}) });
  }
}
