/** The one-command demo: controller + N simulated nodes forming a cluster. */
export { runDemo, type DemoOptions, type DemoView, type DemoNodeView } from './demo.js';
/** Network-namespace topology (root mode of the demo, partition tests). */
export {
  NetnsTopology,
  NetnsError,
  isNetnsError,
  netnsUnavailableReason,
  removeStaleTopologies,
  netnsClusterIp,
  NETNS_CLUSTER_PREFIX,
  NETNS_CLUSTER_IFNAME,
  type NetnsNode,
  type NetnsTopologyOptions,
  type NetnsTopologyState,
  type NetnsErrorKind,
} from './netns.js';
