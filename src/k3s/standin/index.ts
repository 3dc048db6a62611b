/**
 * The k3s stand-in: `k3s server` / `k3s agent` on a real etcd, serving the Kubernetes API subset the agent and
 * kubectl use. Run as a separate program (`edgesim k3s server|agent`); the agent never imports this folder.
 */
export { runK3sStandin } from './run.js';
export {
  DEFAULT_CONFIG_PATH,
  DEFAULT_DATA_DIR,
  type K3sConfigValues,
  type StandinRole,
} from './config.js';
export { isStandinError } from './errors.js';
