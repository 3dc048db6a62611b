/**
 * Named errors of the embedded controller. The admin API maps `kind` to an HTTP status at its edge;
 * the device API never lets one escape (it answers with Adam's status codes instead).
 */

/** What went wrong, as a fixed set the admin API and the CLI can branch on. */
export type ControllerErrorKind =
  /** A request or option failed validation; `field` names it. */
  | 'INVALID_INPUT'
  /** The referenced device, config or cluster does not exist. */
  | 'NOT_FOUND'
  /** A device reference matches several devices, or an object already exists. */
  | 'CONFLICT'
  /** The controller is not in a state that allows the call (not running, already stopped). */
  | 'STATE'
  /** A key or certificate under the data dir is missing or unusable. */
  | 'PKI'
  /** The admin API could not be reached or answered with an error (CLI side). */
  | 'ADMIN_HTTP';

/** An error of the controller module; `field` names the offending input when there is one. */
export class ControllerError extends Error {
  override readonly name = 'ControllerError';
  constructor(
    readonly kind: ControllerErrorKind,
    message: string,
    readonly context: { field?: string; status?: number; url?: string } = {},
  ) {
    super(message);
  }
}

/** Type guard for ControllerError. */
export function isControllerError(e: unknown): e is ControllerError {
  return e instanceof ControllerError;
}

/** The admin API status for an error kind. */
export function httpStatusOf(kind: ControllerErrorKind): number {
  switch (kind) {
    case 'INVALID_INPUT':
      return 400;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
      return 409;
    case 'STATE':
      return 503;
    case 'PKI':
    case 'ADMIN_HTTP':
      return 500;
  }
}
