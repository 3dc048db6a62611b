// Original file: proto/admin/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface ConfigReply {
  /**
   * The decoded DeviceConfig as JSON; encrypted blocks and secret-looking values are replaced by "[REDACTED]".
   */
  'json'?: (string);
  'configHash'?: (string);
  /**
   * controller | checkpoint
   */
  'source'?: (string);
  'receivedAtMs'?: (number | string | Long);
}

export interface ConfigReply__Output {
  /**
   * The decoded DeviceConfig as JSON; encrypted blocks and secret-looking values are replaced by "[REDACTED]".
   */
  'json': (string);
  'configHash': (string);
  /**
   * controller | checkpoint
   */
  'source': (string);
  'receivedAtMs': (number);
}
