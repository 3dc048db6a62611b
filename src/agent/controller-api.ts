/**
 * The device side of the EVE API v2: each endpoint as a typed call that seals the request, sends it and
 * verifies/decodes the reply (eve-api.md §2, §5). Decisions (retry, re-attest, checkpoint) stay with the callers.
 */
import {
  attest,
  auth,
  config,
  decode,
  encode,
  info,
  metrics,
  openControllerReply,
  parseAuthContainer,
  authContainerPayload,
  register,
  sealDeviceRequest,
  uuid,
  verifyControllerCerts,
  type Signer,
  type VerifiedControllerCerts,
} from '../eve/index.js';
import {
  protoContentTypeProblem,
  type ControllerClient,
  type ControllerResponse,
  type OnboardingHeaders,
  type TransportFaults,
} from './controller-client.js';

/** A reply the device cannot use (wrong status, content type, signature…); `status` is the HTTP status. */
export class ControllerReplyError extends Error {
  override readonly name = 'ControllerReplyError';
  constructor(
    readonly action: string,
    readonly status: number,
    reason: string,
  ) {
    super(`${action}: ${reason}`);
  }
}

/** The device's identity as the wire layer needs it. */
export interface DeviceCredentials {
  signer: Signer;
  /** Exact PEM bytes of the device cert. */
  deviceCertPem: Buffer;
}

export interface ControllerApiOptions {
  client: ControllerClient;
  rootCertPem: Buffer;
  device: DeviceCredentials;
  onboardingHeaders: OnboardingHeaders;
  now: () => number;
  /** Fault injection: flip a payload byte of config replies before verification (tests rejection). */
  tamperConfig?: () => boolean;
  /** This device's transport faults, consulted on every request (the client may be shared by a fleet). */
  faults?: () => TransportFaults;
}

/** One device's conversation with its controller. */
export class ControllerApi {
  /** Verified controller certs; replies are checked against `signingCertPem`. */
  certs: VerifiedControllerCerts | undefined;
  /** Set once /uuid succeeded; switches URLs to `id/<uuid>/…` and drops the onboarding headers. */
  deviceUuid: string | undefined;

  constructor(private readonly opts: ControllerApiOptions) {}

  /** GET /certs: the chain is verified instead of the (unchecked) envelope, eve-api.md §5.4 step 1, §7. */
  async fetchCerts(signal?: AbortSignal): Promise<{ verified: VerifiedControllerCerts; raw: Buffer }> {
    const res = await this.send('certs', undefined, signal);
    this.expect('certs', res, [200]);
    const payload = authContainerPayload(parseAuthContainer(res.body));
    const verified = verifyControllerCerts(payload, { rootCaPem: this.opts.rootCertPem, nowMs: this.opts.now() });
    return { verified, raw: res.body };
  }

  /** Re-verifies certs from a checkpointed /certs reply. */
  verifyCertsReply(raw: Buffer): VerifiedControllerCerts {
    const payload = authContainerPayload(parseAuthContainer(raw));
    return verifyControllerCerts(payload, { rootCaPem: this.opts.rootCertPem, nowMs: this.opts.now() });
  }

  /** POST /register with the onboarding key; returns the HTTP status (201 created, 409 already registered…). */
  async register(
    onboarding: { signer: Signer; certPem: Buffer },
    msg: { serial: string; softSerial: string },
    signal?: AbortSignal,
  ): Promise<number> {
    const payload = encode(register.ZRegisterMsg, {
      pemCert: Buffer.from(this.opts.device.deviceCertPem.toString('base64'), 'latin1'),
      serial: msg.serial,
      softSerial: msg.softSerial,
    });
    const body = await sealDeviceRequest(payload, {
      signer: onboarding.signer,
      senderCertPem: onboarding.certPem,
      includeSenderCert: true,
      ...(signal ? { signal } : {}),
    });
    const res = await this.opts.client.request(this.opts.client.url('register'), body, {
      onboarding: this.opts.onboardingHeaders,
      ...(signal ? { signal } : {}),
      ...(this.opts.faults ? { faults: this.opts.faults() } : {}),
    });
    return res.status;
  }

  /** POST /uuid (empty UuidRequest, device key) → the device UUID. */
  async fetchUuid(signal?: AbortSignal): Promise<{ uuid: string; manufacturer: string; productName: string }> {
    const res = await this.send('uuid', new Uint8Array(), signal);
    this.expect('uuid', res, [200]);
    const msg = decode(uuid.UuidResponse, await this.open(res.body));
    if (!msg.uuid) throw new ControllerReplyError('uuid', res.status, 'UuidResponse has no uuid');
    return { uuid: msg.uuid, manufacturer: msg.manufacturer, productName: msg.product_name };
  }

  /** POST id/<uuid>/attest; returns the decoded ZAttestResponse. */
  async attest(req: attest.IZAttestReq, signal?: AbortSignal): Promise<attest.ZAttestResponse> {
    const res = await this.send('attest', encode(attest.ZAttestReq, req), signal);
    this.expect('attest', res, [200, 201]);
    return decode(attest.ZAttestResponse, await this.open(res.body));
  }

  /**
   * POST id/<uuid>/config. Returns `unchanged` on 304 (or an equal hash), `none` on 404 (the controller has no config
   * for this device yet: an answer, not a failure, and what every new device of a fleet hears first), the verified
   * reply bytes and decoded response when changed, or throws ControllerReplyError with the status (403 → re-attest…).
   */
  async fetchConfig(
    req: { configHash: string; integrityToken: Buffer | undefined },
    signal?: AbortSignal,
  ): Promise<{ kind: 'unchanged' } | { kind: 'none' } | { kind: 'changed'; raw: Buffer; response: config.ConfigResponse }> {
    const payload = encode(config.ConfigRequest, {
      configHash: req.configHash,
      ...(req.integrityToken ? { integrity_token: req.integrityToken } : {}),
    });
    const res = await this.send('config', payload, signal);
    if (res.status === 304) return { kind: 'unchanged' };
    if (res.status === 404) return { kind: 'none' };
    this.expect('config', res, [200]);
    const body = this.opts.tamperConfig?.() ? flipPayloadByte(res.body) : res.body;
    const response = decode(config.ConfigResponse, await this.open(body));
    if (req.configHash && response.configHash === req.configHash) return { kind: 'unchanged' };
    return { kind: 'changed', raw: res.body, response };
  }

  /** Verifies a checkpointed config reply with the current controller certs. */
  async openConfigReply(raw: Buffer): Promise<config.ConfigResponse> {
    return decode(config.ConfigResponse, await this.open(raw));
  }

  /** POST id/<uuid>/metrics (fire-and-forget in EVE: the caller only logs failures). */
  async postMetrics(msg: metrics.IZMetricMsg, signal?: AbortSignal): Promise<ControllerResponse> {
    return this.send('metrics', encode(metrics.ZMetricMsg, msg), signal);
  }

  /** Encodes a ZInfoMsg (exported for the queue, which stores inner bytes). */
  static encodeInfo(msg: info.IZInfoMsg): Buffer {
    return encode(info.ZInfoMsg, msg);
  }

  /** Sends a sealed request for `action`; GET when `payload` is undefined. */
  async send(action: string, payload: Uint8Array | undefined, signal?: AbortSignal): Promise<ControllerResponse> {
    const body =
      payload === undefined
        ? undefined
        : await sealDeviceRequest(payload, {
            signer: this.opts.device.signer,
            senderCertPem: this.opts.device.deviceCertPem,
            ...(signal ? { signal } : {}),
          });
    return this.opts.client.request(this.opts.client.url(action, this.deviceUuid), body, {
      ...(this.deviceUuid ? {} : { onboarding: this.opts.onboardingHeaders }),
      ...(signal ? { signal } : {}),
      ...(this.opts.faults ? { faults: this.opts.faults() } : {}),
    });
  }

  private expect(action: string, res: ControllerResponse, ok: number[]): void {
    if (!ok.includes(res.status)) throw new ControllerReplyError(action, res.status, `HTTP ${res.status}`);
    const problem = protoContentTypeProblem(res);
    if (problem) throw new ControllerReplyError(action, res.status, problem);
  }

  private async open(body: Buffer): Promise<Buffer> {
    if (!this.certs) throw new ControllerReplyError('verify', 0, 'no verified controller certs yet');
    return openControllerReply(body, this.certs.signingCertPem);
  }
}

/** The config-tamper fault: one payload bit flipped, envelope intact, so only the signature check can catch it. */
function flipPayloadByte(body: Buffer): Buffer {
  const ac = parseAuthContainer(body);
  const payload = Buffer.from(authContainerPayload(ac));
  if (payload.length > 0) payload[payload.length - 1] ^= 0x01;
  ac.protectedPayload = { payload };
  return encode(auth.AuthContainer, ac);
}
