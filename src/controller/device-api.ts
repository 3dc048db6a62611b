/**
 * The device API (`/api/v2/edgedevice/…`, eve-api.md §2) with Adam's observable behaviour
 * (`lf-edge/adam: pkg/server/apiHandlerv2.go`, `commonHandler.go`, `attestation.go`). Every failure maps to
 * a status code; nothing a device sends can make a handler throw. Two refusals go beyond Adam (which ignores the
 * URL UUID and the request Content-Type) and follow `lf-edge/eve-api: APIv2.md`: a POST that is not
 * application/x-proto-binary gets 415, a request for another device's `id/<uuid>/…` 403.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage, type Logger } from '../common/index.js';
import {
  attest,
  buildZControllerCert,
  certificatePublicKey,
  certs,
  config,
  decode,
  deviceSenderCertHash,
  encode,
  info,
  isAuthError,
  isWireError,
  metrics,
  openDeviceRequest,
  openRegisterRequest,
  PROTO_JSON,
  register,
  sealControllerReply,
  uuid as uuidMsg,
  verifyQuote,
  type Decodable,
  type VerifiedDeviceRequest,
} from '../eve/index.js';
import { readBody } from './http-util.js';
import type { ControllerPki } from './pki.js';
import type { AttestCertRecord, ControllerStore, DeviceRecord, DeviceSender } from './store.js';

/** Content type of every protobuf body (eve-api.md §1). */
export const PROTO_CONTENT_TYPE = 'application/x-proto-binary';

/** True for `application/x-proto-binary`, ignoring case and parameters (`; charset=…`). */
function isProtoContentType(header: string | undefined): boolean {
  return header !== undefined && header.split(';', 1)[0].trim().toLowerCase() === PROTO_CONTENT_TYPE;
}

/** Adam: 12 random hex characters (`nonceSize`), 128 for the integrity token (`integrityTokenSize`). */
const NONCE_HEX_CHARS = 12;
const INTEGRITY_TOKEN_HEX_CHARS = 128;

/** Options of {@link DeviceApi}. */
export interface DeviceApiOptions {
  store: ControllerStore;
  pki: ControllerPki;
  /** Child logger (`controller.api`). */
  logger: Logger;
  /** Bodies above this are refused with 413. */
  maxBodyBytes: number;
  /** `UuidResponse.manufacturer`. */
  manufacturer: string;
  /** `UuidResponse.product_name`. */
  productName: string;
  /** Called after a config was sent to a device (200, not 304): the dashboard lists the versions served. */
  onConfigServed?: (uuid: string, version: number) => void;
}

/** A handler's answer. */
interface Reply {
  status: number;
  body?: Buffer;
  /** Device the request authenticated as, for the request log. */
  device?: string;
  /** Why it failed, for the request log (never a secret). */
  reason?: string;
}

/** Thrown inside handlers to answer with `status`. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

function randomHex(chars: number): string {
  return randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars);
}

/** Decodes an inner message; malformed bytes are a 400 (Adam `proto.Unmarshal` failure). */
function parse<M>(type: Decodable<M>, bytes: Uint8Array): M {
  try {
    return decode(type, bytes);
  } catch (e) {
    throw new Refusal(400, isWireError(e) ? e.message : errorMessage(e));
  }
}

/** The answer to ATTEST_REQ_CERT, the same for every device. */
const ATTEST_CERT_RESPONSE: Readonly<attest.IZAttestResponse> = { respType: attest.ZAttestRespType.ATTEST_RESP_CERT };

const ROUTE = /^\/api\/v2\/edgedevice\/(?:id\/([^/]+)\/)?(certs|ping|register|uuid|config|attest|info|metrics|hardwarehealth|logs|newlogs|flowlog|apps\/instanceid\/[^/]+\/newlogs)$/;

/** Request handler of the device API. */
export class DeviceApi {
  private readonly log: Logger;
  /** Replies that are the same bytes for every device while this controller runs, signed once (see sealedOnce). */
  private readonly constantReplies = new Map<string, Promise<Buffer>>();

  constructor(private readonly o: DeviceApiOptions) {
    this.log = o.logger;
  }

  /** Handles one request; never throws, always answers. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    this.dispatch(req, method, path)
      .catch((e: unknown): Reply => {
        if (e instanceof Refusal) return { status: e.status, reason: e.message };
        this.log.warn('device request failed', { method, path, error: errorMessage(e) });
        return { status: 500, reason: errorMessage(e) };
      })
      .then((r) => {
        this.send(res, r);
        const fields = { method, path, status: r.status, ...(r.device ? { device: r.device } : {}), ...(r.reason ? { reason: r.reason } : {}) };
        if (r.status >= 500) this.log.warn('device request', fields);
        else this.log.debug('device request', fields);
      })
      .catch((e: unknown) => this.log.warn('cannot answer device request', { method, path, error: errorMessage(e) }));
  }

  private send(res: ServerResponse, r: Reply): void {
    if (res.headersSent || res.destroyed) return;
    if (r.body && r.body.length > 0) {
      res.writeHead(r.status, { 'Content-Type': PROTO_CONTENT_TYPE, 'Content-Length': r.body.length });
      res.end(r.body);
    } else if (r.status >= 400) {
      // Go's http.Error: the status text as text/plain.
      const text = Buffer.from(`${STATUS_TEXT[r.status] ?? 'Error'}\n`);
      res.writeHead(r.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': text.length });
      res.end(text);
    } else {
      res.writeHead(r.status, { 'Content-Length': 0 });
      res.end();
    }
    // A refused oversized upload is still streaming in: close the connection instead of draining it.
    if (r.status === 413) res.once('finish', () => res.socket?.destroy());
  }

  private async dispatch(req: IncomingMessage, method: string, path: string): Promise<Reply> {
    const m = ROUTE.exec(path);
    if (!m) throw new Refusal(404, 'no such endpoint');
    const action = m[2];
    if (action === 'ping') return { status: 200 };
    if (action === 'certs') {
      if (method !== 'GET' && method !== 'POST') throw new Refusal(405, 'method not allowed');
      req.resume();
      // The controller's certs do not change while it runs.
      return { status: 200, body: await this.sealedOnce('certs', () => encode(certs.ZControllerCert, this.controllerCerts())) };
    }
    if (method !== 'POST') throw new Refusal(405, 'method not allowed');
    // APIv2.md "Mime Types": every POST is application/x-proto-binary (EVE always sends it).
    if (!isProtoContentType(req.headers['content-type'])) {
      req.resume();
      throw new Refusal(415, `Content-Type must be ${PROTO_CONTENT_TYPE}`);
    }
    const read = await readBody(req, this.o.maxBodyBytes);
    if (!read.ok) throw new Refusal(read.reason === 'too-large' ? 413 : 400, `body ${read.reason}`);
    const body = read.body;
    // Adam answers an empty body before looking at it (validateAuthContainerAndRecord); 400 here, not 500.
    if (body.length === 0) throw new Refusal(400, 'empty body');
    if (action === 'register') return this.register(body);

    const v = await this.authenticate(body);
    const uuid = v.sender.uuid;
    // A device acts only on its own resources (APIv2.md: valid credentials without authorization → 403).
    const urlUuid = m[1];
    if (urlUuid !== undefined && urlUuid.toLowerCase() !== uuid) {
      return { status: 403, device: uuid, reason: `URL device ${urlUuid} is not the sender` };
    }
    this.o.store.noteSeen(uuid);
    const reply = await this.deviceAction(action, v.request, uuid);
    reply.device = uuid;
    return reply;
  }

  private controllerCerts(): certs.IZControllerCert {
    return buildZControllerCert({ signingPem: this.o.pki.signing.certPem, encryptPem: this.o.pki.encrypt.certPem });
  }

  private seal(payload: Buffer): Promise<Buffer> {
    return sealControllerReply(payload, { signer: this.o.pki.signing.signer, signingCertPem: this.o.pki.signing.certPem });
  }

  /**
   * The sealed reply named `key`, signed on first use: for a payload that is the same for every device (the
   * signature covers the payload alone, so one signature serves all). A failed seal is not kept.
   */
  private sealedOnce(key: string, payload: () => Buffer): Promise<Buffer> {
    let sealed = this.constantReplies.get(key);
    if (!sealed) {
      sealed = this.seal(payload()).catch((e: unknown) => {
        this.constantReplies.delete(key);
        throw e;
      });
      this.constantReplies.set(key, sealed);
    }
    return sealed;
  }

  /** Verifies a device AuthContainer (eve-api.md §5.2): malformed 400; no hash, unknown cert or bad signature 401. */
  private async authenticate(body: Buffer): Promise<{ request: VerifiedDeviceRequest; sender: DeviceSender }> {
    let found: DeviceSender | undefined;
    try {
      const request = await openDeviceRequest(body, (hash) => {
        found = this.o.store.deviceSender(hash.toString('hex'));
        return found?.certPem;
      });
      return { request, sender: found! };
    } catch (e) {
      if (isAuthError(e)) throw new Refusal(e.kind === 'MALFORMED' ? 400 : 401, e.message);
      throw e;
    }
  }

  /** The full row, for the actions that need more than the sender's identity (config, attest). */
  private device(uuid: string): DeviceRecord {
    const d = this.o.store.getDevice(uuid);
    if (!d) throw new Error(`device ${uuid} authenticated but not in the store`);
    return d;
  }

  private async deviceAction(action: string, req: VerifiedDeviceRequest, uuid: string): Promise<Reply> {
    switch (action) {
      case 'uuid': {
        parse(uuidMsg.UuidRequest, req.payload);
        const r: uuidMsg.IUuidResponse = { uuid, manufacturer: this.o.manufacturer, product_name: this.o.productName };
        return { status: 200, body: await this.seal(encode(uuidMsg.UuidResponse, r)) };
      }
      case 'config':
        return this.config(req.payload, uuid);
      case 'attest': {
        const r = await this.attest(req.payload, uuid);
        // Every device's CERT step gets the same answer.
        const body = r === ATTEST_CERT_RESPONSE
          ? await this.sealedOnce('attest-cert', () => encode(attest.ZAttestResponse, r))
          : await this.seal(encode(attest.ZAttestResponse, r));
        return { status: 201, body };
      }
      case 'info': {
        const msg = parse(info.ZInfoMsg, req.payload);
        const ztype = info.ZInfoTypes[msg.ztype] ?? String(msg.ztype);
        // Kept as received (the JSON is rendered when read). Acknowledged only once committed: a crash after the
        // 201 cannot lose it.
        await this.o.store.queueEncodedInfo(uuid, ztype, req.payload);
        return { status: 201 };
      }
      case 'metrics': {
        const msg = parse(metrics.ZMetricMsg, req.payload);
        await this.o.store.queueMetrics(uuid, metrics.ZMetricMsg.toObject(msg, PROTO_JSON));
        return { status: 201 };
      }
      case 'hardwarehealth':
        return { status: 200 };
      default:
        // logs, newlogs, app newlogs, flowlog: authenticated and accepted, not kept.
        return { status: 201 };
    }
  }

  /**
   * POST /register (Adam `register` + `registerProcess`): verify with the carried onboarding cert;
   * onboarding cert and serial (or soft serial) must be pre-registered (403), unused (409); then a new
   * device with a UUIDv4 (201, no body).
   */
  private register(body: Buffer): Reply {
    let v: VerifiedDeviceRequest;
    try {
      v = openRegisterRequest(body);
    } catch (e) {
      if (isAuthError(e)) throw new Refusal(e.kind === 'MALFORMED' ? 400 : 401, e.message);
      throw e;
    }
    if (v.payload.length === 0) throw new Refusal(400, 'register payload is empty');
    const onboardHash = deviceSenderCertHash(v.senderCertPem).toString('hex');
    const msg = parse(register.ZRegisterMsg, v.payload);
    let serial = msg.serial;
    let check = this.o.store.onboardCheck(onboardHash, serial);
    if (check !== 'ok' && msg.softSerial) {
      serial = msg.softSerial;
      check = this.o.store.onboardCheck(onboardHash, serial);
    }
    if (check === 'unknown-cert' || check === 'unknown-serial') throw new Refusal(403, `onboarding ${check}`);
    if (check === 'used') throw new Refusal(409, `serial ${serial} already used`);

    const pem = Buffer.from(Buffer.from(msg.pemCert).toString('latin1'), 'base64');
    let certHash: string;
    try {
      certificatePublicKey(pem);
      certHash = deviceSenderCertHash(pem).toString('hex');
    } catch (e) {
      throw new Refusal(400, `pemCert: ${errorMessage(e)}`);
    }
    if (this.o.store.deviceSender(certHash)) throw new Refusal(409, 'device cert already registered');
    const uuid = randomUUID();
    this.o.store.addDevice({ uuid, serial, onboardHashHex: onboardHash, certPem: pem.toString('latin1'), certHashHex: certHash });
    this.log.info('device registered', { device: uuid, serial });
    return { status: 201, device: uuid };
  }

  /**
   * POST /config (Adam `config` + `configProcess`): 404 without config; 400 unparsable request; 403 when the
   * integrity token is empty or differs; 304 (empty) when the hash matches; else 200 + AC(ConfigResponse).
   */
  private async config(payload: Buffer, uuid: string): Promise<Reply> {
    const stored = this.o.store.getConfig(uuid);
    if (!stored) throw new Refusal(404, 'no config for device');
    const req = parse(config.ConfigRequest, payload);
    const device = this.device(uuid);
    const token = Buffer.from(req.integrity_token);
    if (token.length === 0 || device.integrityToken === null || !token.equals(Buffer.from(device.integrityToken))) {
      throw new Refusal(403, 'integrity token missing or wrong');
    }
    if (req.configHash === stored.configHash) return { status: 304 };
    // The stored bytes are an EdgeDevConfig; ConfigResponse.config is field 1, so splicing keeps them verbatim.
    const resp = encode(config.ConfigResponse, {
      config: decode(config.EdgeDevConfig, stored.config),
      configHash: stored.configHash,
    });
    const body = await this.seal(resp);
    this.o.onConfigServed?.(device.uuid, stored.version);
    return { status: 200, body };
  }

  /** POST /attest (Adam `attestProcess`); always 201 + AC(ZAttestResponse) except 400 for a bad request. */
  private async attest(payload: Buffer, uuid: string): Promise<attest.IZAttestResponse> {
    const req = parse(attest.ZAttestReq, payload);
    const { store } = this.o;
    // NONCE and CERT only write: the device row is read for QUOTE and STORE_KEYS alone.
    switch (req.reqType) {
      case attest.ZAttestReqType.ATTEST_REQ_NONCE: {
        const nonce = randomHex(NONCE_HEX_CHARS);
        await store.setNonce(uuid, nonce);
        return { respType: attest.ZAttestRespType.ATTEST_RESP_NONCE, nonce: { nonce: Buffer.from(nonce, 'latin1') } };
      }
      case attest.ZAttestReqType.ATTEST_REQ_CERT: {
        const list: AttestCertRecord[] = req.certs.map((c) => ({
          type: c.type ?? 0,
          hashAlgo: c.hashAlgo ?? 0,
          certHashHex: Buffer.from(c.certHash ?? new Uint8Array()).toString('hex'),
          certB64: Buffer.from(c.cert ?? new Uint8Array()).toString('base64'),
        }));
        await store.setAttestCerts(uuid, list);
        return ATTEST_CERT_RESPONSE;
      }
      case attest.ZAttestReqType.ATTEST_REQ_QUOTE: {
        const device = this.device(uuid);
        const token = store.ensureIntegrityToken(device.uuid, () => randomHex(INTEGRITY_TOKEN_HEX_CHARS));
        const keys = device.storageKeys ? parse(attest.AttestStorageKeys, device.storageKeys).keys : [];
        const quote = req.quote;
        // No PCRs: a device without TPM; Adam answers SUCCESS with the token and no keys (eve-api.md §8).
        if (!quote || (quote.pcr_values ?? []).length === 0) {
          return {
            respType: attest.ZAttestRespType.ATTEST_RESP_QUOTE_RESP,
            quoteResp: { response: attest.ZAttestResponseCode.Z_ATTEST_RESPONSE_CODE_SUCCESS, integrity_token: Buffer.from(token, 'latin1') },
          };
        }
        const code = this.checkQuote(quote, device);
        return {
          respType: attest.ZAttestRespType.ATTEST_RESP_QUOTE_RESP,
          quoteResp:
            code === attest.ZAttestResponseCode.Z_ATTEST_RESPONSE_CODE_SUCCESS
              ? { response: code, integrity_token: Buffer.from(token, 'latin1'), keys }
              : { response: code },
        };
      }
      case attest.ZAttestReqType.Z_ATTEST_REQ_TYPE_STORE_KEYS: {
        const device = this.device(uuid);
        const sk = req.storage_keys;
        const given = Buffer.from(sk?.integrity_token ?? new Uint8Array());
        const ok = given.length > 0 && device.integrityToken !== null && given.equals(Buffer.from(device.integrityToken));
        if (ok) store.setStorageKeys(device.uuid, encode(attest.AttestStorageKeys, sk!));
        return {
          respType: attest.ZAttestRespType.Z_ATTEST_RESP_TYPE_STORE_KEYS,
          storage_keys_resp: {
            response: ok
              ? attest.AttestStorageKeysResponseCode.ATTEST_STORAGE_KEYS_RESPONSE_CODE_SUCCESS
              : attest.AttestStorageKeysResponseCode.ATTEST_STORAGE_KEYS_RESPONSE_CODE_ITOKEN_MISMATCH,
          },
        };
      }
      default:
        throw new Refusal(400, `attest request type ${String(req.reqType)} not implemented`);
    }
  }

  /**
   * Adam `quoteValidate`: a nonce was handed out, every PCR value is SHA-256, and the quote verifies against the
   * stored RESTRICTED_SIGNING cert and the last nonce (src/eve/quote.ts). A bad signature answers INVALID, as
   * Adam does.
   */
  private checkQuote(quote: attest.IZAttestQuote, device: DeviceRecord): attest.ZAttestResponseCode {
    const codes = attest.ZAttestResponseCode;
    if (!device.nonce) return codes.Z_ATTEST_RESPONSE_CODE_NONCE_MISMATCH;
    const pcrs = quote.pcr_values ?? [];
    if (pcrs.some((p) => p.hash_algo !== attest.TpmHashAlgo.TPM_HASH_ALGO_SHA256)) return codes.Z_ATTEST_RESPONSE_CODE_QUOTE_FAILED;
    const cert = device.attestCerts.find((c) => c.type === (certs.ZCertType.CERT_TYPE_DEVICE_RESTRICTED_SIGNING as number));
    const r = verifyQuote({
      attestData: quote.attestData ?? new Uint8Array(),
      signatureDer: quote.signature ?? new Uint8Array(),
      pcrs: pcrs.map((p) => ({ index: p.index ?? 0, value: p.value ?? new Uint8Array() })),
      nonce: Buffer.from(device.nonce, 'latin1'),
      attestCertPem: cert ? Buffer.from(cert.certB64, 'base64') : null,
    });
    if (r.code !== 'SUCCESS') this.log.debug('quote refused', { device: device.uuid, code: r.code, reason: r.reason });
    return r.code === 'SIGNATURE_INVALID' ? codes.Z_ATTEST_RESPONSE_CODE_INVALID : (r.responseCode);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};
