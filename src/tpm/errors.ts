/**
 * TpmError: every failure of a KeyStore operation, classified so callers branch on `kind`, never on message text.
 * The classification reads the TPM response code (TPM 2.0 Part 2 §6.6, "TPM_RC") of a raw response, or the TSS2
 * code tpm2_send prints when its transport fails.
 */

/** What went wrong, independent of the backend. */
export type TpmErrorKind =
  /** The TPM (swtpm socket, device node, tabrmd) cannot be reached. */
  | 'UNREACHABLE'
  /** A persistent key or a key file is missing (TPM_RC_HANDLE, 0x18b); provision first. */
  | 'HANDLE_MISSING'
  /** Authorisation failed (TPM_RC_AUTH_FAIL, TPM_RC_BAD_AUTH) or the TPM is in DA lockout. */
  | 'AUTH_FAIL'
  /** The ECDH peer point is not on P-256 or badly encoded (TPM_RC_ECC_POINT, 0x1e7 for parameter 1). */
  | 'POINT_NOT_ON_CURVE'
  /** The tool did not finish within the per-call timeout. */
  | 'TIMEOUT'
  /** The TPM ran out of transient object slots (TPM_RC_OBJECT_MEMORY, 0x902). */
  | 'OBJECT_MEMORY'
  /** The TPM ran out of session slots (TPM_RC_SESSION_MEMORY, 0x903). */
  | 'SESSION_MEMORY'
  /** Anything else: the TPM refused the command, tpm2_send failed or is missing, or a response could not be parsed. */
  | 'TOOL_FAILED';

/** A KeyStore operation failed. `command` is the tool (e.g. `tpm2_sign`) or `soft:<op>`. */
export class TpmError extends Error {
  override readonly name = 'TpmError';
  constructor(
    readonly kind: TpmErrorKind,
    readonly command: string,
    message: string,
    /** TSS/TPM response code when the tool printed one (e.g. 0x18b). */
    readonly code?: number,
    /** The tool's stderr, trimmed (never contains key material: tools print none). */
    readonly stderr = '',
  ) {
    super(message);
  }

  /** The response code as `0x…`, or undefined. */
  get codeHex(): string | undefined {
    return this.code === undefined ? undefined : '0x' + this.code.toString(16);
  }
}

/** Type guard for TpmError. */
export function isTpmError(e: unknown): e is TpmError {
  return e instanceof TpmError;
}

const TPM_RC_WARN = 0x900;
const RC_FMT1 = 0x080;

/**
 * Classifies a TSS2 response code. Layer 0 is the TPM itself; the TCTI layer (0x0a0000) means the transport
 * failed. Format-1 codes (bit 7 set) carry the error in bits 0-5 and the handle/parameter number above.
 */
export function classifyResponseCode(rc: number): TpmErrorKind {
  const layer = (rc >>> 16) & 0xff;
  if (layer === 0x0a) return 'UNREACHABLE';
  if (layer !== 0) return 'TOOL_FAILED';
  if (rc & RC_FMT1) {
    switch (rc & 0x3f) {
      case 0x0b: // TPM_RC_HANDLE
        return 'HANDLE_MISSING';
      case 0x0e: // TPM_RC_AUTH_FAIL
      case 0x22: // TPM_RC_BAD_AUTH
        return 'AUTH_FAIL';
      case 0x27: // TPM_RC_ECC_POINT
        return 'POINT_NOT_ON_CURVE';
      default:
        return 'TOOL_FAILED';
    }
  }
  switch (rc) {
    case TPM_RC_WARN + 0x02: // TPM_RC_OBJECT_MEMORY
      return 'OBJECT_MEMORY';
    case TPM_RC_WARN + 0x03: // TPM_RC_SESSION_MEMORY
      return 'SESSION_MEMORY';
    case TPM_RC_WARN + 0x21: // TPM_RC_LOCKOUT
      return 'AUTH_FAIL';
    default:
      return 'TOOL_FAILED';
  }
}

const KIND_TEXT: Record<TpmErrorKind, string> = {
  UNREACHABLE: 'TPM unreachable',
  HANDLE_MISSING: 'key not present in the TPM (run `edgesim tpm provision`)',
  AUTH_FAIL: 'TPM authorisation failed',
  POINT_NOT_ON_CURVE: 'ECC point not on the P-256 curve',
  TIMEOUT: 'TPM call timed out',
  OBJECT_MEMORY: 'TPM out of memory for object contexts (transient objects not flushed)',
  SESSION_MEMORY: 'TPM out of memory for session contexts (sessions not flushed)',
  TOOL_FAILED: 'TPM command failed',
};

/** A one-line description of a kind, for messages. */
export function describeKind(kind: TpmErrorKind): string {
  return KIND_TEXT[kind];
}

/** Matches the TSS2 response code tpm2_send prints when its TCTI fails, e.g. `tss2_tcti_transmit failed: 0xa000a`. */
const RC_PATTERN = /tss2_tcti_\w+ failed: (0x[0-9a-fA-F]+)/g;
const UNREACHABLE_TEXT = /Could not load tcti|Failed to connect|Connection refused|Connection reset|Broken pipe|No such file or directory: .*tpm|Failed to open specified TCTI device/i;

/**
 * Builds a TpmError from a tpm2_send that ended without a response: the printed TSS2 code classifies it, else the
 * TCTI's text. (TPM response codes arrive in the response itself: tpm-command-frame.ts.)
 */
export function toolError(command: string, stderr: string, exit: string): TpmError {
  let code: number | undefined;
  for (const m of stderr.matchAll(RC_PATTERN)) code = Number.parseInt(m[1], 16);
  let kind = code === undefined ? 'TOOL_FAILED' : classifyResponseCode(code);
  if (UNREACHABLE_TEXT.test(stderr) && (code === undefined || kind === 'TOOL_FAILED')) kind = 'UNREACHABLE';
  const lastLine = stderr.trim().split('\n').filter((l) => l.startsWith('ERROR:')).at(0) ?? exit;
  const rc = code === undefined ? '' : ` (rc 0x${code.toString(16)})`;
  return new TpmError(kind, command, `${command}: ${describeKind(kind)}${rc}: ${lastLine}`, code, stderr.trim());
}
