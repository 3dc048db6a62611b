// Original file: proto/admin/admin.proto


export interface WatchRequest {
  /**
   * Only events whose kind starts with one of these (e.g. "config", "fault"); empty = every event.
   */
  'kinds'?: (string)[];
}

export interface WatchRequest__Output {
  /**
   * Only events whose kind starts with one of these (e.g. "config", "fault"); empty = every event.
   */
  'kinds': (string)[];
}
