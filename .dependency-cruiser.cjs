// The import rules of the README and design.md, checked by `npm run lint` (depcruise src).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'An import cycle: modules that need each other are one responsibility split wrongly.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'agent-not-controller',
      severity: 'error',
      comment: 'Agent and controller never import each other; they share src/eve.',
      from: { path: '^src/agent/' },
      to: { path: '^src/controller/' },
    },
    {
      name: 'controller-not-agent',
      severity: 'error',
      comment: 'Agent and controller never import each other; they share src/eve.',
      from: { path: '^src/controller/' },
      to: { path: '^src/agent/' },
    },
    {
      name: 'standin-is-a-program',
      severity: 'error',
      comment: 'The k3s stand-in is a separate program behind the k3s contract: only the CLI starts it.',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/k3s/standin/', '^src/inproc/'] },
      to: { path: '^src/k3s/standin/' },
    },
    {
      name: 'inproc-is-a-composition',
      severity: 'error',
      comment:
        'src/inproc runs the stand-in\'s machinery in memory for in-process clusters (issue 13), so it may import ' +
        'src/k3s/standin; in exchange the parts never import it, so the agent, k3s client, controller, tpm and eve stay ' +
        'free of the stand-in. Only compositions (cli, fleet, demo) use it.',
      from: { path: '^src/(agent|k3s|tpm|eve|controller)/' },
      to: { path: '^src/inproc/' },
    },
    {
      name: 'nothing-calls-cli',
      severity: 'error',
      comment: 'The CLI calls everything and nothing calls it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'demo-is-a-leaf',
      severity: 'error',
      comment: 'The demo wires the parts together; the parts never depend on it.',
      from: { path: '^src/(agent|k3s|tpm|eve)/' },
      to: { path: '^src/demo/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve to a file or an installed package.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/gen/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    skipAnalysisNotInRules: true,
  },
};
