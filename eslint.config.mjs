// Lint: type-aware rules that catch the bugs a long-running agent cannot afford.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.dependency-cruiser.cjs', 'dist/**', 'node_modules/**', 'src/gen/**', 'scripts/**/*.mjs', 'bin/**', 'test/fixtures/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() promises are awaited by the runner.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='describe'][callee.property.name='only']", message: 'no .only in committed tests' },
        { selector: "CallExpression[callee.object.name='it'][callee.property.name='only']", message: 'no .only in committed tests' },
        { selector: "CallExpression[callee.object.name='test'][callee.property.name='only']", message: 'no .only in committed tests' },
      ],
    },
  },
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/require-await': 'off' } },
  { files: ['eslint.config.mjs'], ...tseslint.configs.disableTypeChecked },
);
