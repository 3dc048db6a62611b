/**
 * Before a fleet ramps thousands of devices, it proves the inputs once and stops with one line naming the cause
 * when they are wrong: the controller does not answer, its TLS certificate or /certs chain is not signed by the
 * config folder's root certificate, or it refuses the onboarding certificate. Thousands of devices retrying the
 * same mistake in the background would only hide it.
 */
import { errorMessage } from '../common/index.js';
import { AuthError, ControllerCertError } from '../eve/index.js';
import { ControllerReplyError, ControllerUnreachableError, OnboardingRefusedError } from '../agent/index.js';

/** Why a fleet could not start. */
export type FleetErrorKind = 'unreachable' | 'untrusted' | 'onboarding-refused' | 'controller-error' | 'state-mismatch';

/** A fleet input that does not work; the message is the one line the CLI prints. */
export class FleetError extends Error {
  override readonly name = 'FleetError';
  constructor(
    readonly kind: FleetErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** TLS verification failures as Node/OpenSSL word them. */
const TLS_TRUST = /certificate|self[- ]signed|unable to (get|verify)|CERT_|issuer/i;

/**
 * Turns what the first device's cycle threw into the error the operator needs (pure: the error, the server and the
 * config folder in, the explanation out).
 */
export function explainStartFailure(e: unknown, server: string, configDir: string): FleetError {
  if (e instanceof FleetError) return e;
  const root = `${configDir}/root-certificate.pem`;
  if (e instanceof ControllerUnreachableError) {
    if (TLS_TRUST.test(e.reason)) {
      return new FleetError('untrusted', `the controller at ${server} presented a TLS certificate that ${root} does not trust (${e.reason})`);
    }
    return new FleetError('unreachable', `controller unreachable at https://${server}: ${e.reason}`);
  }
  if (e instanceof OnboardingRefusedError) {
    return new FleetError('onboarding-refused', `${e.message} (onboard.cert.pem in ${configDir})`);
  }
  if (e instanceof ControllerReplyError) {
    return new FleetError('controller-error', `the controller at ${server} answered ${e.message}`);
  }
  if (e instanceof ControllerCertError || e instanceof AuthError) {
    return new FleetError('untrusted', `the controller's /certs reply does not verify against ${root}: ${errorMessage(e)}`);
  }
  return new FleetError('controller-error', `the first device could not complete its cycle against ${server}: ${errorMessage(e)}`);
}
