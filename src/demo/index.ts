/** The one-command demo: controller + N simulated nodes forming a cluster. */
export { runDemo, type DemoOptions, type DemoView, type DemoNodeView } from './demo.js';
