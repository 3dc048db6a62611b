/**
 * Runs cluster plans (cluster-plan.ts): one step at a time, recording a step's effect only after it succeeded and
 * planning again after every step. A step that fails or is aborted leaves the record as it was, so the next
 * attempt starts from what is really there.
 */
import {
  afterStep,
  planCluster,
  type ClusterAddress,
  type ClusterApplied,
  type ClusterStep,
  type ClusterWanted,
} from './cluster-plan.js';

/** The actions behind the steps (the reconciler's real ones, or a test's fakes). */
export interface ClusterEffects {
  stopMonitor(): Promise<void>;
  leave(): Promise<void>;
  stopStatusServer(): Promise<void>;
  resetK3s(): Promise<void>;
  removeAddress(a: ClusterAddress): Promise<void>;
  addAddress(a: ClusterAddress): Promise<void>;
  startStatusServer(ip: string, clusterId: string): Promise<void>;
  waitBootstrap(joinServerIp: string, clusterId: string, signal: AbortSignal): Promise<void>;
  writeDropIns(w: ClusterWanted): Promise<void>;
  /** Starts (or restarts) k3s with the drop-ins written; `data` is recorded as the owner of its data. */
  startK3s(data: string): Promise<void>;
  startMonitor(w: ClusterWanted): Promise<void>;
}

/** More steps than any transition needs: a plan that keeps going is a planner defect, not a wait. */
const MAX_STEPS = 32;

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError');
}

export class ClusterExecutor {
  constructor(
    private readonly effects: ClusterEffects,
    private appliedState: ClusterApplied,
    private readonly onStep: (step: ClusterStep) => void = () => undefined,
  ) {}

  /** What is applied now (as of the last step that succeeded). */
  get applied(): ClusterApplied {
    return this.appliedState;
  }

  /** The steps still needed to reach `wanted`. */
  pending(wanted: ClusterWanted | undefined): ClusterStep[] {
    return planCluster(this.appliedState, wanted);
  }

  /**
   * Steps until the plan is empty. Rejects with the failed step's error (its effect is not recorded) or with an
   * AbortError when `signal` fires (between steps, or inside the bootstrap wait).
   */
  async converge(wanted: ClusterWanted | undefined, signal: AbortSignal): Promise<void> {
    for (let n = 0; n < MAX_STEPS; n++) {
      if (signal.aborted) throw abortError(signal);
      const [step] = planCluster(this.appliedState, wanted);
      if (!step) return;
      this.onStep(step);
      await this.run(step, signal);
      this.appliedState = afterStep(this.appliedState, step);
    }
    throw new Error(`cluster transition did not converge within ${MAX_STEPS} steps`);
  }

  private run(step: ClusterStep, signal: AbortSignal): Promise<void> {
    const e = this.effects;
    switch (step.kind) {
      case 'stop-monitor':
        return e.stopMonitor();
      case 'leave':
        return e.leave();
      case 'stop-status-server':
        return e.stopStatusServer();
      case 'reset-k3s':
        return e.resetK3s();
      case 'remove-address':
        return e.removeAddress(step.address);
      case 'add-address':
        return e.addAddress(step.address);
      case 'start-status-server':
        return e.startStatusServer(step.ip, step.clusterId);
      case 'wait-bootstrap':
        return e.waitBootstrap(step.joinServerIp, step.clusterId, signal);
      case 'write-drop-ins':
        return e.writeDropIns(step.wanted);
      case 'start-k3s':
        return e.startK3s(step.data);
      case 'start-monitor':
        return e.startMonitor(step.wanted);
    }
  }
}
