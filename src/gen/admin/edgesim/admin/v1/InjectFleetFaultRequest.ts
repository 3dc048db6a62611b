// Original file: proto/admin/fleet.proto

import type { Long } from '@grpc/proto-loader';

export interface InjectFleetFaultRequest {
  'kind'?: (string);
  /**
   * Share of this process's devices, chosen at random: exactly round(fraction × devices). Ignored with serials.
   */
  'fraction'?: (number | string);
  'serials'?: (string)[];
  /**
   * Kind-specific: ms for controller-delay and clock-skew, the HTTP status for controller-5xx.
   */
  'value'?: (number | string | Long);
  /**
   * Spec ms (divided by the fleet's --time-scale); unset = until cleared.
   */
  'durationMs'?: (number | string | Long);
  '_value'?: "value";
  '_durationMs'?: "durationMs";
}

export interface InjectFleetFaultRequest__Output {
  'kind': (string);
  /**
   * Share of this process's devices, chosen at random: exactly round(fraction × devices). Ignored with serials.
   */
  'fraction': (number);
  'serials': (string)[];
  /**
   * Kind-specific: ms for controller-delay and clock-skew, the HTTP status for controller-5xx.
   */
  'value'?: (number);
  /**
   * Spec ms (divided by the fleet's --time-scale); unset = until cleared.
   */
  'durationMs'?: (number);
}
