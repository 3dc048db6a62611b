/**
 * The k3s stand-in: `k3s server` / `k3s agent` on a real etcd, serving the Kubernetes API subset the agent and
 * kubectl use. Run as a separate program (`edgesim k3s server|agent`); the agent never imports this folder.
 */
export { runK3sStandin, type RunStandinOptions } from './run.js';
export { K3sStandin, type StandinOptions, type StandinState } from './standin.js';
export {
  loadK3sConfig,
  compileStandinConfig,
  DEFAULT_CONFIG_PATH,
  DEFAULT_DATA_DIR,
  type K3sConfigSources,
  type K3sConfigValues,
  type StandinConfig,
  type StandinRole,
} from './config.js';
export { StandinError, isStandinError, type StandinErrorKind } from './errors.js';
