/**
 * A device's session with its controller (EVE's client + attesttask): the controller certs (GET /certs, verified
 * to the root and checkpointed), onboarding (register with the onboarding cert, then /uuid; client.go's 1 s → 600 s
 * retry) and attestation (CERT → NONCE → QUOTE → integrity token, 15 s retry). It also owns reachability: every
 * exchange that got an HTTP answer marks the controller reachable.
 */
import type { Clock, Logger } from '../common/index.js';
import { errorMessage, jitter } from '../common/index.js';
import { loadPrivateKeyPem, opensslSigner, type Signer } from '../eve/index.js';
import type { DeviceIdentity, KeyStore } from '../tpm/index.js';
import { attestCertRequest, attestOnce } from './attestation.js';
import { ControllerReplyError, type ControllerApi } from './controller-api.js';
import { ControllerUnreachableError, type ControllerResponse } from './controller-client.js';
import type { DeviceConfigFolder } from './device-config.js';
import type { DeviceStore } from './device-store.js';

const ONBOARD_RETRY_MIN_MS = 1_000; // client.go: 1 s → 600 s, no jitter
const ONBOARD_RETRY_MAX_MS = 600_000;
const ATTEST_RETRY_MS = 15_000; // attesttask.go retryTimeInterval
const CERT_INTERVAL_MS = 86_400_000; // timer.cert.interval
const CERT_RETRY_MS = 120_000; // 120 s after a failure

/** The controller refused the onboarding certificate or serial (register 403, then uuid 401). */
export class OnboardingRefusedError extends Error {
  override readonly name = 'OnboardingRefusedError';
  constructor(readonly registerStatus: number, serial: string) {
    super(
      `the controller refused onboarding (register answered HTTP ${registerStatus}): the onboarding certificate ` +
        `or the serial "${serial}" is not registered with it`,
    );
  }
}

export interface SessionContext {
  api: ControllerApi;
  clock: Clock;
  logger: Logger;
  signal: AbortSignal;
  once: boolean;
  emit(kind: string, message: string, fields?: Record<string, unknown>): void;
  folder: DeviceConfigFolder;
  keys: KeyStore;
  identity: DeviceIdentity;
  store: DeviceStore;
}

export class ControllerSession {
  /** Whether the last exchange got an HTTP answer; undefined before the first one. */
  private reachability: boolean | undefined;
  /** Kept in memory only: every start attests again (EVE keeps it in /run). */
  integrityToken: Buffer | undefined;
  /** Set by a 403 on config: the attest loop runs attestation again. */
  attestNeeded = true;
  /** Set when the onboarding cert signer was built (kept: a fleet signs register for many devices). */
  private onboardingSigner: Signer | undefined;
  private readonly certListeners: Array<() => Promise<void>> = [];
  private readonly log: Logger;

  constructor(private readonly c: SessionContext) {
    this.log = c.logger.child({ component: 'agent' });
  }

  /** Whether the last exchange got an HTTP answer (false before the first one). */
  get reachable(): boolean {
    return this.reachability === true;
  }

  /** An exchange got an HTTP answer; the way back from unreachable is logged and emitted once. */
  markReachable(): void {
    if (this.reachability === false) {
      this.log.info('controller reachable again');
      this.c.emit('controller.reachable', 'the controller answers again');
    }
    this.reachability = true;
  }

  /**
   * An exchange got no HTTP answer (refused, TLS, the request deadline): the controller counts as unreachable from
   * this first failure on; logged and emitted once per outage, not once per request.
   */
  markUnreachable(e: ControllerUnreachableError): void {
    if (this.reachability !== false) {
      this.log.warn('controller unreachable', { error: e.reason, timedOut: e.timedOut });
      this.c.emit('controller.unreachable', `the controller does not answer: ${e.reason}`, { timedOut: e.timedOut });
    }
    this.reachability = false;
  }

  /** Called after the controller certs changed (a block that could not be decrypted is retried, cluster.md §2.3). */
  onCertsChanged(listener: () => Promise<void>): void {
    this.certListeners.push(listener);
  }

  /**
   * Runs one exchange: an HTTP answer marks the controller reachable, no answer marks it unreachable and returns
   * 'unreachable'; other errors pass through.
   */
  async exchange(send: () => Promise<ControllerResponse>): Promise<ControllerResponse | 'unreachable'> {
    try {
      const res = await send();
      this.markReachable();
      return res;
    } catch (e) {
      if (e instanceof ControllerUnreachableError) {
        if (!this.c.signal.aborted) this.markUnreachable(e);
        return 'unreachable';
      }
      throw e;
    }
  }

  // --- controller certs -----------------------------------------------------------------------------------

  /** Loads the checkpointed /certs reply (before the controller is reached) and the UUID. */
  async loadCheckpoint(): Promise<void> {
    for (const raw of await this.c.store.certCheckpoint.candidates()) {
      try {
        this.c.api.certs = this.c.api.verifyCertsReply(raw);
        break;
      } catch (e) {
        this.log.warn('controller cert checkpoint does not verify', { error: errorMessage(e) });
      }
    }
    const uuid = await this.c.store.readUuid();
    if (uuid) this.c.api.deviceUuid = uuid;
  }

  /** GET /certs until it verifies; falls back to the checkpoint when the controller is unreachable. */
  async establishCerts(): Promise<void> {
    let delay = ONBOARD_RETRY_MIN_MS;
    for (;;) {
      try {
        await this.refreshCerts();
        return;
      } catch (e) {
        if (this.c.signal.aborted) throw e;
        if (this.c.api.certs) {
          this.log.warn('controller certs unavailable; continuing from the checkpoint', { error: errorMessage(e) });
          return;
        }
        if (this.c.once) throw e;
        this.log.warn('controller certs unavailable; retrying', { error: errorMessage(e), retryInMs: delay });
        await this.c.clock.sleep(delay, this.c.signal);
        delay = Math.min(ONBOARD_RETRY_MAX_MS, delay * 2);
      }
    }
  }

  /** GET /certs, verify, checkpoint when changed, tell the listeners. */
  async refreshCerts(): Promise<void> {
    const { verified, raw } = await this.c.api.fetchCerts(this.c.signal);
    this.markReachable();
    const changed = this.c.api.certs?.hashSetKey !== verified.hashSetKey;
    if (changed) {
      await this.c.store.certCheckpoint.save(raw);
      this.log.info('controller certs verified', { certs: verified.certsByHashHex.size });
    }
    this.c.api.certs = verified;
    if (changed) for (const l of this.certListeners) await l();
  }

  async certLoop(): Promise<void> {
    let wait = jitter(CERT_INTERVAL_MS, 0.3, 1);
    while (!this.c.signal.aborted) {
      await this.c.clock.sleep(wait, this.c.signal);
      try {
        await this.refreshCerts();
        wait = jitter(CERT_INTERVAL_MS, 0.3, 1);
      } catch (e) {
        if (this.c.signal.aborted) throw e;
        this.log.warn('controller cert refresh failed', { error: errorMessage(e) });
        wait = CERT_RETRY_MS;
      }
    }
  }

  // --- onboarding ---------------------------------------------------------------------------------------

  /** register (with the onboarding cert, outcome only logged) + uuid, interleaved, 1 s → 600 s (client.go). */
  async onboard(): Promise<void> {
    const api = this.c.api;
    if (api.deviceUuid) {
      this.log.info('device already onboarded', { deviceUuid: api.deviceUuid });
      return;
    }
    const { folder } = this.c;
    const onboarding = folder.onboarding;
    if (onboarding) this.onboardingSigner ??= onboardingSigner(onboarding.keyPem);
    let delay = ONBOARD_RETRY_MIN_MS;
    for (;;) {
      let registerStatus: number | undefined;
      try {
        if (onboarding && this.onboardingSigner) {
          registerStatus = await api.register(
            { signer: this.onboardingSigner, certPem: onboarding.certPem },
            { serial: folder.serial, softSerial: folder.softSerial },
            this.c.signal,
          );
          this.log.info('register answered', { status: registerStatus });
        }
        const got = await api.fetchUuid(this.c.signal);
        api.deviceUuid = got.uuid;
        this.markReachable();
        await this.c.store.writeUuid(got.uuid);
        this.log.info('onboarded', { deviceUuid: got.uuid });
        this.c.emit('onboarded', `device UUID ${got.uuid}`, { deviceUuid: got.uuid });
        return;
      } catch (e) {
        if (this.c.signal.aborted) throw e;
        // Register refused and the device cert unknown: the onboarding material itself is wrong.
        const refused =
          registerStatus === 403 && e instanceof ControllerReplyError && e.status === 401
            ? new OnboardingRefusedError(registerStatus, folder.softSerial || folder.serial)
            : undefined;
        if (this.c.once) throw refused ?? e;
        this.log.warn('onboarding not done yet', { error: errorMessage(refused ?? e), retryInMs: delay });
        await this.c.clock.sleep(delay, this.c.signal);
        delay = Math.min(ONBOARD_RETRY_MAX_MS, delay * 2);
      }
    }
  }

  // --- attestation --------------------------------------------------------------------------------------

  async attestWithRetry(tries: number): Promise<void> {
    const { api, keys, identity, signal } = this.c;
    for (let i = 0; i < tries; i++) {
      try {
        const cert = await api.attest(attestCertRequest(identity), signal);
        this.log.debug('attestation certs published', { respType: cert.respType });
        this.integrityToken = await attestOnce(api, keys, signal);
        this.attestNeeded = false;
        this.markReachable();
        this.log.info('attested', { quote: keys.kind === 'tpm' ? 'TPM2_Quote' : 'TPM-less' });
        this.c.emit('attested', `integrity token received (${keys.kind === 'tpm' ? 'TPM2_Quote' : 'TPM-less quote'})`);
        return;
      } catch (e) {
        if (signal.aborted) throw e;
        this.log.warn('attestation failed', { error: errorMessage(e), retryInMs: ATTEST_RETRY_MS });
        if (i + 1 >= tries) {
          if (this.c.once) throw e;
          return; // the attest loop keeps trying
        }
        await this.c.clock.sleep(ATTEST_RETRY_MS, signal);
      }
    }
  }

  async attestLoop(): Promise<void> {
    while (!this.c.signal.aborted) {
      await this.c.clock.sleep(ATTEST_RETRY_MS, this.c.signal);
      if (this.attestNeeded) await this.attestWithRetry(1);
    }
  }

  /** A 403 on config: the token is no longer accepted, attestation restarts. */
  invalidateToken(): void {
    this.integrityToken = undefined;
    this.attestNeeded = true;
  }
}

/** Signers by onboarding key bytes: the devices of a fleet share one onboarding key, parsed once. */
const onboardingSigners = new WeakMap<Buffer, Signer>();

/** The onboarding key's signer (OpenSSL, random nonces: nothing compares register envelopes byte for byte). */
function onboardingSigner(keyPem: Buffer): Signer {
  let signer = onboardingSigners.get(keyPem);
  if (!signer) {
    signer = opensslSigner(loadPrivateKeyPem(keyPem), { offThread: true });
    onboardingSigners.set(keyPem, signer);
  }
  return signer;
}
