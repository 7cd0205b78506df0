// Lint rules that keep the monorepo's shape (see ../shared/STYLE.md and docs/decisions/0001-monorepo-layout-and-tooling.md).
// tools/ci/lint-rules.test.ts proves the boundary rules below fire, on the probes in tools/ci/lint-fixtures.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// `files`/`ignores` globs are relative to the config's base path (this folder, or the cwd with --config).
const TEST_FILES = ['**/*.test.ts'];
/** Test harnesses: what only tests load (the simulator, child processes, devDependencies are fine there). */
const TEST_HARNESSES = ['apps/*/src/**/testing/**/*.ts', 'libs/testing/**/*.ts'];

// no-restricted-imports `group` entries are gitignore patterns matched against the import string: a pattern
// without a slash ("nats") matches that name at any depth, "**/adapters/**" matches "../../adapters/x", and a
// "!" entry re-allows. A later config object replaces an earlier one's options for the same rule, so the domain
// override repeats TEST_ONLY_IMPORTS.
// `export *` hides a module's public surface (STYLE.md #5); repeated in the domain override, which replaces the rule.
const EXPORT_ALL_BAN = { selector: 'ExportAllDeclaration', message: 'export the names explicitly; `export *` hides the public surface' };

const TEST_ONLY_IMPORTS = {
  group: ['@waygate/whatsapp-simulator', '@waygate/local-run'],
  message: 'the WhatsApp simulator and the local runner are for tests: import them only from *.test.ts files and testing/ harnesses',
};
const DOMAIN_BANNED_IMPORTS = [
  {
    group: [
      '@grpc/*',
      'grpc-health-check',
      'nats',
      'mongodb',
      'better-sqlite3',
      'express',
      'helmet',
      'pino',
      '@waygate/nats',
      '@waygate/grpc',
      '@waygate/storage',
      '@waygate/config',
      '@waygate/whatsapp-cloud-api',
    ],
    message:
      'domain code must not depend on transports, drivers or configuration parsing: take a port (an interface the domain owns) as an argument',
  },
  {
    group: [
      'http',
      'https',
      'http2',
      'net',
      'tls',
      'dgram',
      'child_process',
      'fs',
      'fs/*',
      'node:http',
      'node:https',
      'node:http2',
      'node:net',
      'node:tls',
      'node:dgram',
      'node:child_process',
      'node:fs',
      'node:fs/*',
    ],
    message: 'domain code does no I/O: take a port (an interface the domain owns) as an argument',
  },
  {
    // Everything from @opentelemetry except the API and attribute names: the SDK, instrumentations, exporters,
    // resources, context managers. Those belong to main.ts through @waygate/telemetry-sdk.
    group: ['@opentelemetry/*', '!@opentelemetry/api', '!@opentelemetry/semantic-conventions', '@waygate/telemetry-sdk'],
    message: 'domain code may use only @opentelemetry/api and @waygate/telemetry (the API entry); the SDK is started by main.ts',
  },
  {
    group: ['@waygate/proto', '@waygate/contracts', '@bufbuild/*'],
    message: 'domain code must not depend on wire types: handlers translate proto <-> domain',
  },
  {
    group: ['**/adapters', '**/adapters/**', '**/handlers', '**/handlers/**', '**/testing', '**/testing/**'],
    message: 'domain code must not import adapters, handlers or test harnesses: they depend on the domain, not the reverse',
  },
  {
    // The wiring files of the service skeleton (server.ts, main.ts, instrument.ts, config.ts, *-config.ts, and
    // start-*.ts: the wiring of one part of an app, e.g. receipt's start-tenant-feed.ts, decision 0006).
    regex: '^\\.{1,2}/(?:[^/]+/)*(?:server|main|instrument|config|[a-z0-9-]+-config|start-[a-z0-9-]+|open-[a-z0-9-]+)(?:\\.[cm]?[jt]s)?$',
    message: 'domain code must not import the wiring (server, main, instrument, config, start-*): wiring passes what the domain needs in',
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      'dist/**',
      '.nx/**',
      '.data/**',
      'libs/proto/src/generated/**',
      'deploy/**',
      '**/*.mjs',
      // Probes that break the rules on purpose; tools/ci/lint-rules.test.ts lints them with this config.
      'tools/ci/lint-fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@nx': nx, 'import-x': importX },
    rules: {
      // Apps depend on libs, never the reverse; libs only on the kinds of lib their tag allows.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: false,
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:proto', 'type:util', 'type:testing'] },
            {
              sourceTag: 'type:adapter',
              onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:proto', 'type:util', 'type:testing'],
            },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:proto', onlyDependOnLibsWithTags: [] },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['type:domain', 'type:adapter', 'type:proto', 'type:util', 'type:testing'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      // Every package imported is declared in the root package.json; devDependencies only outside apps' and libs'
      // shipped code (narrowed below). Type-only imports are not checked (they vanish at build).
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: import.meta.dirname, devDependencies: true, optionalDependencies: false, peerDependencies: false },
      ],
      // Libs expose explicit named exports; `export *` hides what a lib's public surface is (STYLE.md #5).
      'no-restricted-syntax': ['error', EXPORT_ALL_BAN],
      'no-console': 'error',
    },
  },
  {
    // Shipped code: apps' and libs' sources run with `npm ci --omit=dev`.
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: [...TEST_FILES, ...TEST_HARNESSES],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: import.meta.dirname, devDependencies: false, optionalDependencies: false, peerDependencies: false },
      ],
      'no-restricted-imports': ['error', { patterns: [TEST_ONLY_IMPORTS] }],
    },
  },
  {
    // Domain code is pure at every depth (src/domain/**, src/feed/domain/**, …): no transports, drivers, SDKs or
    // wire types (STYLE.md #2). @opentelemetry/api and @waygate/telemetry are fine.
    files: ['apps/*/src/**/domain/**/*.ts'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': ['error', { patterns: [TEST_ONLY_IMPORTS, ...DOMAIN_BANNED_IMPORTS] }],
      // no-restricted-imports does not see `import()`; a dynamic import would get around the ban. The options replace
      // the general ones, so the `export *` ban is repeated.
      'no-restricted-syntax': [
        'error',
        EXPORT_ALL_BAN,
        { selector: 'ImportExpression', message: 'domain code imports statically, so that the domain import ban sees every import' },
      ],
    },
  },
  {
    // CommonJS preloads (tools/ci/per-test-timeout.cjs) run under plain node before tsx: require() is their import.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Command-line entry points talk to a terminal.
    files: ['tools/*/src/main.ts', 'tools/local-run/src/**/*.ts', 'tools/ci/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // node:test's describe/test return promises the runner awaits itself.
    files: TEST_FILES,
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite'] }] },
      ],
    },
  },
);
