// Lint: typescript-eslint's recommended rules with type information, on everything we ship or run.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** A lint rule that stops files in `files` importing the given sibling layers of lib/ or packages. */
function layerBoundary(files, layers, packages, ignores = []) {
  // From a layer a sibling is `../name` (or `../../name` from a subfolder); from lib/ itself, `./name`.
  const up = files.startsWith('lib/*') ? '\\.' : '\\.\\.(/\\.\\.)*'
  const message = 'lib/ is layered: cache <- store, cache <- middleware (see eslint.config.mjs)'
  return {
    files: [files],
    ignores,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...layers.map((layer) => ({ regex: `^${up}/${layer}(/|$)`, message })),
            ...packages.map((name) => ({ regex: `^${name}$`, message: `${message}; ${name} belongs to the layer that needs it` })),
          ],
        },
      ],
    },
  }
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      // Interface methods are async so that every failure, even a synchronous one, is a rejection.
      '@typescript-eslint/require-await': 'off',
      // Caught errors are rejected as they came, whatever their type.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
    },
  },
  // The layers, enforced: the cache imports neither session layer, and the store and the
  // middleware build on the cache, never on each other. Only lib/index.ts (and the tools in
  // lib/cli) see all three.
  layerBoundary('lib/cache/**/*.ts', ['store', 'middleware'], ['express', 'express-session']),
  layerBoundary('lib/store/**/*.ts', ['middleware'], []),
  layerBoundary('lib/middleware/**/*.ts', ['store'], ['express-session']),
  layerBoundary('lib/*.ts', ['cache', 'store', 'middleware'], ['express', 'express-session'], ['lib/index.ts']),
  // lib/shared: internals the layers share (deadlines, tracing, deprecations); they import no layer.
  layerBoundary('lib/shared/**/*.ts', ['cache', 'store', 'middleware'], ['express', 'express-session']),
  {
    // supertest's response bodies are `any`; tests assert on their shape instead.
    files: ['__tests__/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly' },
    },
  },
)
