/**
 * Errors of the k3s stand-in. `StandinError` covers start-up and membership failures (the process exits
 * with its message); `ApiError` is a Kubernetes API failure that the API server turns into a `Status` object.
 */

/** What went wrong while starting or running a stand-in node. */
export type StandinErrorKind =
  | 'config' // a config key or flag has a bad value
  | 'join-refused' // the join server rejected the token
  | 'join-failed' // the join server could not be reached or could not add the member
  | 'etcd' // the etcd member did not start or exited
  | 'tls' // certificate generation failed
  | 'datastore'; // the datastore did not answer in time

/** A stand-in start-up or runtime failure with its context (field, URL, exit code…). */
export class StandinError extends Error {
  override readonly name = 'StandinError';
  constructor(
    readonly kind: StandinErrorKind,
    message: string,
    readonly context: Record<string, string | number | undefined> = {},
  ) {
    super(message);
  }
}

/** Type guard for {@link StandinError}, optionally of one kind. */
export function isStandinError(e: unknown, kind?: StandinErrorKind): e is StandinError {
  return e instanceof StandinError && (kind === undefined || e.kind === kind);
}

/** Kubernetes `Status.reason` values the stand-in produces. */
export type ApiErrorReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'BadRequest'
  | 'Unauthorized'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'Expired'
  | 'ServiceUnavailable'
  | 'InternalError';

const CODES: Record<ApiErrorReason, number> = {
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Invalid: 422,
  BadRequest: 400,
  Unauthorized: 401,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  UnsupportedMediaType: 415,
  Expired: 410,
  ServiceUnavailable: 503,
  InternalError: 500,
};

/** Identifies the object an ApiError is about (Status.details). */
export interface ApiErrorDetails {
  name?: string;
  group?: string;
  kind?: string;
}

/** A Kubernetes API error; `status()` renders the `Status` object the real API server would return. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: number;
  constructor(
    readonly reason: ApiErrorReason,
    message: string,
    readonly details: ApiErrorDetails = {},
  ) {
    super(message);
    this.code = CODES[reason];
  }

  /** The `meta/v1 Status` body (k8s.io/apimachinery/pkg/api/errors). */
  status(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

/** Type guard for {@link ApiError}. */
export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
