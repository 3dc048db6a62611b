/**
 * Many registered devices against a running controller, for the restart test and bench/controller-ingest.ts:
 * each with its own P-256 key and self-signed EVE device cert, registered through the real device API with the
 * controller's onboarding cert, and able to seal ZInfoDevice requests and POST them over a keep-alive HTTPS pool.
 */
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { deviceInfoMessage } from '../../../src/agent/reports.js';
import {
  createCertificate,
  decode,
  encode,
  eveDeviceCertTemplate,
  generateSoftKey,
  info,
  loadPrivateKeyPem,
  openControllerReply,
  register,
  sealDeviceRequest,
  softSigner,
  uuid as uuidMsg,
  type Signer,
} from '../../../src/eve/index.js';
import type { ControllerAdminClient} from '../../../src/controller/index.js';
import { PROTO_CONTENT_TYPE } from '../../../src/controller/index.js';

/** One registered device. */
export interface SignedDevice {
  serial: string;
  uuid: string;
  certPem: Buffer;
  signer: Signer;
}

/** An HTTP answer. */
export interface DeviceAnswer {
  status: number;
  body: Buffer;
}

/** A keep-alive HTTPS client of one controller's device API (the controller's root CA trusted). */
export class DeviceApiClient {
  readonly agent: https.Agent;
  private constructor(
    readonly base: string,
    readonly rootCa: Buffer,
    /** The signing cert as devices receive it in /certs (trimmed PEM). */
    readonly signingCert: Buffer,
    maxSockets: number,
  ) {
    this.agent = new https.Agent({ keepAlive: true, maxSockets, ca: rootCa });
  }

  /** Client of the controller whose data dir is `dataDir` (its root CA and signing cert are read from there). */
  static async open(dataDir: string, deviceUrl: string, maxSockets = 16): Promise<DeviceApiClient> {
    const rootCa = await readFile(path.join(dataDir, 'certs/root-certificate.pem'));
    const signing = Buffer.from((await readFile(path.join(dataDir, 'certs/signing.pem'))).toString().trim());
    return new DeviceApiClient(deviceUrl, rootCa, signing, maxSockets);
  }

  /** POSTs `body` (GET without one) to `/api/v2/edgedevice/<p>`. */
  post(p: string, body?: Buffer, contentType: string | null = PROTO_CONTENT_TYPE): Promise<DeviceAnswer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (body) {
        headers['Content-Length'] = body.length;
        if (contentType !== null) headers['Content-Type'] = contentType;
      }
      const req = https.request(
        new URL(`/api/v2/edgedevice/${p}`, this.base),
        { method: body ? 'POST' : 'GET', agent: this.agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Creates `count` devices (serials `<prefix>-<i>`), allows their serials with the controller's onboarding cert,
 * registers each (201) and learns its UUID from /uuid. Runs `parallel` registrations at a time.
 */
export async function registerDevices(
  client: DeviceApiClient,
  dataDir: string,
  admin: ControllerAdminClient,
  count: number,
  prefix: string,
  parallel = 16,
): Promise<SignedDevice[]> {
  const onboardPem = await readFile(path.join(dataDir, 'certs/onboard.cert.pem'));
  const onboardSigner = softSigner(loadPrivateKeyPem(await readFile(path.join(dataDir, 'certs/onboard.key.pem'))));
  const serials = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await admin.addOnboard(onboardPem.toString(), serials);
  const out: SignedDevice[] = new Array<SignedDevice>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const key = generateSoftKey();
      const signer = softSigner(key);
      const certPem = Buffer.from(
        await createCertificate({ ...eveDeviceCertTemplate(Date.now()), issuer: 'self', publicKey: key.publicKey, signer }),
      );
      const reg = await sealDeviceRequest(
        encode(register.ZRegisterMsg, { pemCert: Buffer.from(certPem.toString('base64')), serial: serials[i] }),
        { signer: onboardSigner, senderCertPem: onboardPem, includeSenderCert: true },
      );
      const r = await client.post('register', reg);
      if (r.status !== 201) throw new Error(`register ${serials[i]}: HTTP ${r.status}`);
      const u = await client.post('uuid', await sealDeviceRequest(Buffer.alloc(0), { signer, senderCertPem: certPem }));
      if (u.status !== 200) throw new Error(`uuid ${serials[i]}: HTTP ${u.status}`);
      const uuid = decode(uuidMsg.UuidResponse, await openControllerReply(u.body, client.signingCert)).uuid;
      out[i] = { serial: serials[i], uuid, certPem, signer };
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return out;
}

/** A sealed ZInfoDevice request of `d` (POST it to `id/<uuid>/info`); `seq` goes into the hostname. */
export async function sealedDeviceInfo(d: SignedDevice, seq: number, nowMs = Date.now()): Promise<Buffer> {
  const msg = deviceInfoMessage(
    {
      deviceUuid: d.uuid,
      deviceName: d.serial,
      bootTimeMs: nowMs - 3_600_000,
      hostname: `${d.serial}-${seq}`,
      tpm: false,
      attestationState: 3,
      ports: [{ ifname: 'eth0', label: 'ethernet0', addrs: ['192.0.2.10'], up: true }],
      kubevirt: false,
    },
    nowMs,
  );
  return sealDeviceRequest(encode(info.ZInfoMsg, msg), { signer: d.signer, senderCertPem: d.certPem });
}
