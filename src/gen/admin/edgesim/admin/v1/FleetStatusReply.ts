// Original file: proto/admin/fleet.proto

import type { Long } from '@grpc/proto-loader';

export interface FleetStatusReply {
  /**
   * created | proving | ramping | running | stopping | stopped | failed
   */
  'state'?: (string);
  /**
   * i/n
   */
  'shard'?: (string);
  'devices'?: (number);
  /**
   * pending | provisioning | onboarding | attesting | running | rebooting | failed | stopping | stopped → devices
   */
  'byPhase'?: ({[key: string]: number});
  'onboarded'?: (number);
  /**
   * Info messages queued on all devices, not yet accepted by the controller.
   */
  'queueDepth'?: (number);
  /**
   * Fault kind → devices where it is active.
   */
  'faults'?: ({[key: string]: number});
  'restarts'?: (number);
  /**
   * "<endpoint> <outcome>" (e.g. "config 304", "info unreachable") → requests since the process started.
   */
  'requests'?: ({[key: string]: number | string | Long});
  /**
   * The edgesim version of the fleet process.
   */
  'version'?: (string);
}

export interface FleetStatusReply__Output {
  /**
   * created | proving | ramping | running | stopping | stopped | failed
   */
  'state': (string);
  /**
   * i/n
   */
  'shard': (string);
  'devices': (number);
  /**
   * pending | provisioning | onboarding | attesting | running | rebooting | failed | stopping | stopped → devices
   */
  'byPhase': ({[key: string]: number});
  'onboarded': (number);
  /**
   * Info messages queued on all devices, not yet accepted by the controller.
   */
  'queueDepth': (number);
  /**
   * Fault kind → devices where it is active.
   */
  'faults': ({[key: string]: number});
  'restarts': (number);
  /**
   * "<endpoint> <outcome>" (e.g. "config 304", "info unreachable") → requests since the process started.
   */
  'requests': ({[key: string]: number});
  /**
   * The edgesim version of the fleet process.
   */
  'version': (string);
}
