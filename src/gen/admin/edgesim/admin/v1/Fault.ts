// Original file: proto/admin/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Fault {
  /**
   * One of the kinds in src/agent/faults.ts (FAULT_KINDS).
   */
  'kind'?: (string);
  /**
   * Kind-specific: ms for controller-delay and clock-skew, the HTTP status for controller-5xx.
   */
  'value'?: (number | string | Long);
  /**
   * Epoch ms when it clears by itself; unset = until cleared.
   */
  'untilMs'?: (number | string | Long);
  '_value'?: "value";
  '_untilMs'?: "untilMs";
}

export interface Fault__Output {
  /**
   * One of the kinds in src/agent/faults.ts (FAULT_KINDS).
   */
  'kind': (string);
  /**
   * Kind-specific: ms for controller-delay and clock-skew, the HTTP status for controller-5xx.
   */
  'value'?: (number);
  /**
   * Epoch ms when it clears by itself; unset = until cleared.
   */
  'untilMs'?: (number);
}
