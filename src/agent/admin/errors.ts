/** Errors of the admin side: the admin socket server, its client, the metrics listener and the systemd notifier. */

/** What went wrong, for callers that branch (the CLI picks its exit code from it). */
export type AdminErrorKind =
  /** Another agent already serves this admin socket, or the path is not a socket. */
  | 'SOCKET_IN_USE'
  /** No agent answers on the socket (not running, or a stale path). */
  | 'UNAVAILABLE'
  /** The request was refused as malformed (unknown fault kind, bad duration, bad listen address). */
  | 'INVALID_ARGUMENT'
  /** The thing asked for does not exist yet (e.g. no config accepted so far). */
  | 'NOT_FOUND'
  /** Any other failure of a call or a listener. */
  | 'FAILED';

/** An admin API or operations failure with its kind and, where known, the socket, address or field involved. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly kind: AdminErrorKind,
    message: string,
    readonly context: { socket?: string; listen?: string; field?: string } = {},
  ) {
    super(message);
  }
}

/** Type guard for AdminError. */
export function isAdminError(e: unknown): e is AdminError {
  return e instanceof AdminError;
}
