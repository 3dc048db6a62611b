/** The one-command demo: controller + N simulated nodes forming a cluster. */
export { runDemo, DEMO_SCENARIOS, type DemoView, type DemoResult, type DemoScenario } from './demo.js';
/** `--scenario failover`: an app on node 1, node 1 killed, the failover timeline. */
export { failoverRows } from './failover.js';
/** The failover timeline as data (the scenario, the e2e tests, bench/failover.ts). */
export { recordFailoverTimeline, type FailoverTimeline } from './failover-timeline.js';
/** Network-namespace topology (root mode of the demo, partition tests). */
export {
  NetnsTopology,
  netnsUnavailableReason,
  netnsClusterIp,
  NETNS_CLUSTER_PREFIX,
  NETNS_CLUSTER_IFNAME,
} from './netns.js';
