/**
 * The raw TPM 2.0 commands that find, create, persist and flush objects, as provisioning sends them through
 * `tpm2_send`: TPM2_GetCapability (Part 3 §30.2, TPM_CAP_HANDLES), TPM2_ReadPublic (§12.4), TPM2_CreatePrimary
 * (§24.1), TPM2_EvictControl (§28.5), TPM2_FlushContext (§28.4) and TPM2_LoadExternal (§12.3). Hierarchies are
 * authorised by a password session with the empty owner auth, as tpm2-tools does by default.
 */
import { TpmError } from './errors.js';
import { buildCommand, responseBody, responseParameters, type TpmCommand, type Transmit } from './tpm-command-frame.js';
import { TpmReader, tpm2b, u16, u32 } from './tpm-marshal.js';
import { decodeEccPublic, encodeEccPublic, TPM_ALG, type DecodedEccPublic, type EccPublic } from './tpm-public.js';

const TPM_CC_GET_CAPABILITY = 0x017a;
const TPM_CC_READ_PUBLIC = 0x0173;
const TPM_CC_CREATE_PRIMARY = 0x0131;
const TPM_CC_EVICT_CONTROL = 0x0120;
const TPM_CC_FLUSH_CONTEXT = 0x0165;
const TPM_CC_LOAD_EXTERNAL = 0x0167;
const TPM_CAP_HANDLES = 0x00000001;
/** TPM_RH_OWNER: the storage hierarchy EVE creates its keys in (cipher-and-tpm.md §9). */
export const TPM_RH_OWNER = 0x40000001;
/** TPM_RH_NULL: the hierarchy of TPM2_LoadExternal objects (no persistence, no seed). */
const TPM_RH_NULL = 0x40000007;
/** TPM_RC_NV_DEFINED: TPM2_EvictControl found the persistent handle taken. */
export const TPM_RC_NV_DEFINED = 0x14c;
/** First handle of each handle type (TPM_HT_* << 24) that TPM2_GetCapability(TPM_CAP_HANDLES) lists. */
export const HANDLE_RANGE = {
  persistent: 0x81000000,
  transient: 0x80000000,
  loadedSession: 0x02000000,
  savedSession: 0x03000000,
} as const;
/** Handles asked per TPM2_GetCapability; the TPM may return fewer and set moreData. */
const HANDLES_PER_CALL = 64;
const OWNER_AUTH = new Uint8Array(0);

/** TPM2_GetCapability(TPM_CAP_HANDLES, first, 64): handles of first's type from `first` on. */
export function getHandlesCommand(first: number): TpmCommand {
  const params = Buffer.concat([u32(TPM_CAP_HANDLES), u32(first), u32(HANDLES_PER_CALL)]);
  return buildCommand({ name: 'TPM2_GetCapability', code: TPM_CC_GET_CAPABILITY, handles: [], params });
}

/** TPM2_GetCapability(TPM_CAP_HANDLES) response → the handles and whether more follow (ask again after the last). */
export function parseGetHandlesResponse(cmd: TpmCommand, rsp: Buffer): { handles: number[]; more: boolean } {
  const r = new TpmReader(responseParameters(cmd, rsp), 'TPM2_GetCapability response');
  const more = r.u8('moreData') !== 0;
  const cap = r.u32('capability');
  if (cap !== TPM_CAP_HANDLES) throw new TpmError('TOOL_FAILED', cmd.name, `${cmd.name}: capability 0x${cap.toString(16)}, expected handles`);
  const count = r.u32('handle.count');
  const handles = Array.from({ length: count }, (_, i) => r.u32(`handle[${i}]`));
  r.end();
  return { handles, more };
}

/** TPM2_ReadPublic(objectHandle). */
export function readPublicCommand(handle: number): TpmCommand {
  return buildCommand({ name: 'TPM2_ReadPublic', code: TPM_CC_READ_PUBLIC, handles: [handle], params: Buffer.alloc(0) });
}

/** A key's public area as the TPM returned it and decoded. */
export interface PublicArea {
  /** TPMT_PUBLIC bytes (the TPM2B_PUBLIC's contents). */
  bytes: Buffer;
  decoded: DecodedEccPublic;
}

function readPublicArea(r: TpmReader): PublicArea {
  const bytes = Buffer.from(r.tpm2b('outPublic'));
  return { bytes, decoded: decodeEccPublic(bytes) };
}

/** TPM2_ReadPublic response → the public area (the name fields that follow are not needed). */
export function parseReadPublicResponse(cmd: TpmCommand, rsp: Buffer): PublicArea {
  return readPublicArea(new TpmReader(responseParameters(cmd, rsp), 'TPM2_ReadPublic response'));
}

/**
 * TPM2_CreatePrimary(primaryHandle, inSensitive = empty auth and data, inPublic = template, outsideInfo = empty,
 * creationPCR = none), what `tpm2_createprimary -C o -g sha256 -G … -a … [-u unique]` sends.
 */
export function createPrimaryCommand(hierarchy: number, template: EccPublic): TpmCommand {
  const inSensitive = tpm2b(Buffer.concat([tpm2b(new Uint8Array(0)), tpm2b(new Uint8Array(0))]));
  const params = Buffer.concat([inSensitive, tpm2b(encodeEccPublic(template)), tpm2b(new Uint8Array(0)), u32(0)]);
  return buildCommand({
    name: 'TPM2_CreatePrimary',
    code: TPM_CC_CREATE_PRIMARY,
    handles: [hierarchy],
    auth: OWNER_AUTH,
    params,
    responseHandles: 1,
  });
}

/** TPM2_CreatePrimary response → the transient handle (flush it) and the key's public area. */
export function parseCreatePrimaryResponse(cmd: TpmCommand, rsp: Buffer): { handle: number; pub: PublicArea } {
  const { handles, params } = responseBody(cmd, rsp);
  return { handle: handles[0], pub: readPublicArea(new TpmReader(params, 'TPM2_CreatePrimary response')) };
}

/** TPM2_EvictControl(TPM_RH_OWNER, objectHandle, persistentHandle): makes a transient object persistent. */
export function evictControlCommand(objectHandle: number, persistentHandle: number): TpmCommand {
  const cmd = buildCommand({
    name: 'TPM2_EvictControl',
    code: TPM_CC_EVICT_CONTROL,
    handles: [TPM_RH_OWNER, objectHandle],
    auth: OWNER_AUTH,
    params: u32(persistentHandle),
  });
  // Errors name the persistent handle being made, not the hierarchy.
  return { ...cmd, handle: persistentHandle };
}

/** TPM2_FlushContext(flushHandle): unloads a transient object or session. */
export function flushContextCommand(handle: number): TpmCommand {
  const cmd = buildCommand({ name: 'TPM2_FlushContext', code: TPM_CC_FLUSH_CONTEXT, handles: [], params: u32(handle) });
  return { ...cmd, handle };
}

/** A response without parameters (TPM2_EvictControl, TPM2_FlushContext): only the response code matters. */
export function parseEmptyResponse(cmd: TpmCommand, rsp: Buffer): void {
  responseBody(cmd, rsp);
}

/**
 * TPM2_LoadExternal(inPrivate = ECC P-256 scalar `d`, inPublic = sign|decrypt|userWithAuth, hierarchy = NULL): a
 * transient copy of a software key, what `tpm2_loadexternal -C n -G ecc -a sign|decrypt|userwithauth` sends.
 * Only the test-only helpers load keys this way (test/helpers/tpm-test-support.ts).
 */
export function loadExternalEccCommand(d: Uint8Array, point: Uint8Array, attributes: number): TpmCommand {
  const sensitive = Buffer.concat([u16(TPM_ALG.ECC), tpm2b(new Uint8Array(0)), tpm2b(new Uint8Array(0)), tpm2b(d)]);
  const pub = encodeEccPublic({ attributes, scheme: TPM_ALG.NULL, x: point.subarray(1, 33), y: point.subarray(33, 65) });
  return buildCommand({
    name: 'TPM2_LoadExternal',
    code: TPM_CC_LOAD_EXTERNAL,
    handles: [],
    params: Buffer.concat([tpm2b(sensitive), tpm2b(pub), u32(TPM_RH_NULL)]),
    responseHandles: 1,
  });
}

/** TPM2_LoadExternal response → the transient handle (flush it). */
export function parseLoadExternalResponse(cmd: TpmCommand, rsp: Buffer): number {
  return responseBody(cmd, rsp).handles[0];
}

/**
 * Every handle TPM2_GetCapability(TPM_CAP_HANDLES) lists from `first` on, following moreData: the TPM answers a
 * bounded number per call, so the next call starts after the last handle returned. (Saved sessions are listed
 * with their session handles, which need not share `first`'s type byte.)
 */
export async function listHandles(tx: Transmit, first: number): Promise<number[]> {
  const out: number[] = [];
  for (let from = first; ; ) {
    const { handles, more } = await tx(getHandlesCommand(from), parseGetHandlesResponse);
    out.push(...handles);
    const last = handles.at(-1);
    if (!more || last === undefined || last < from || last >>> 24 !== first >>> 24) return out;
    from = last + 1;
  }
}
