// Original file: proto/admin/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface InjectFaultRequest {
  'kind'?: (string);
  'value'?: (number | string | Long);
  /**
   * Spec ms (divided by the agent's --time-scale); unset = until cleared.
   */
  'durationMs'?: (number | string | Long);
  '_value'?: "value";
  '_durationMs'?: "durationMs";
}

export interface InjectFaultRequest__Output {
  'kind': (string);
  'value'?: (number);
  /**
   * Spec ms (divided by the agent's --time-scale); unset = until cleared.
   */
  'durationMs'?: (number);
}
