// Original file: proto/admin/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Event {
  'timeMs'?: (number | string | Long);
  /**
   * e.g. phase, config.accepted, config.rejected, attested, info.queued, fault
   */
  'kind'?: (string);
  'message'?: (string);
  /**
   * The event's structured fields as a JSON object ("" when it has none).
   */
  'fieldsJson'?: (string);
}

export interface Event__Output {
  'timeMs': (number);
  /**
   * e.g. phase, config.accepted, config.rejected, attested, info.queued, fault
   */
  'kind': (string);
  'message': (string);
  /**
   * The event's structured fields as a JSON object ("" when it has none).
   */
  'fieldsJson': (string);
}
