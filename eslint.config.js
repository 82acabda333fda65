import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {
    ignores: [
      '**/test/fixtures/**',
      '**/dist/**',
      '**/node_modules/**',
      '**/var/**',
      '**/*.js',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      curly: ['error', 'all'],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Only config.ts reads the environment (DESIGN.md: "Only config.ts reads the environment").
    files: ['packages/server/src/**/*.ts'],
    ignores: ['packages/server/src/config.ts', 'packages/server/src/**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through config.ts.' },
      ],
    },
  },
  {
    // The domain does not know it is on HTTP.
    files: ['packages/server/src/modules/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['fastify', '@fastify/*'], message: 'Modules never import Fastify.' },
          ],
          paths: [
            {
              name: '@kaguan/alipay',
              importNames: ['createAlipayClient'],
              message: 'Get the client from deps.alipay.forMerchant (merchants.alipayContext).',
            },
          ],
        },
      ],
    },
  },
  {
    // Ant Design awaits the promise an async onFinish/onConfirm returns (busy state, errors).
    files: ['packages/console/src/**/*.tsx'],
    rules: {
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
    },
  },
  {
    // Outside systems are reached through the ports in deps (house-review: one deps object, ports):
    // ports/crm.ts holds the one fetch to a CRM; the CLI and the docs page's browser script are
    // clients of kaguan itself.
    files: ['packages/server/src/**/*.ts'],
    ignores: [
      'packages/server/src/ports/crm.ts',
      'packages/server/src/cli/**',
      'packages/server/src/http/management/docs.ts',
      'packages/server/src/**/*.test.ts',
    ],
    rules: {
      'no-restricted-globals': [
        'error',
        {
          name: 'fetch',
          message: 'Call outside systems through deps.crm or deps.alipay, not global fetch.',
        },
      ],
    },
  },
  {
    // Alipay clients are made (and cached per set of keys) by the alipay port alone: a client built
    // in a module would miss the cache invalidation on key changes and the call metrics.
    files: ['packages/server/src/**/*.ts'],
    ignores: ['packages/server/src/ports/alipay.ts', 'packages/server/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@kaguan/alipay',
              importNames: ['createAlipayClient'],
              message: 'Reach Alipay through deps.alipay.forMerchant(…), not a client of your own.',
            },
            { name: 'alipay-sdk', message: 'The SDK is wrapped once, in @kaguan/alipay.' },
          ],
        },
      ],
    },
  },
  {
    // Tests poke at JSON answers; typing every body would add noise, not safety.
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)
