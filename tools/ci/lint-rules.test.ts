/**
 * Proves that the boundary rules in eslint.config.mjs fire: the domain import ban at every depth, test tools only
 * from tests, no `export *`, no undeclared or dev-only packages in shipped code. Each probe in lint-fixtures/ marks
 * the lines that must be reported with `// expect: <rule>, <rule>`; a probe must be reported on exactly those lines,
 * for exactly those rules, and nothing else.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';

const REPO_ROOT = path.resolve(__dirname, '../..');
const CONFIG_FILE = path.join(REPO_ROOT, 'eslint.config.mjs');
const FIXTURES = path.join(__dirname, 'lint-fixtures');

// The fixtures folder stands in for the repository root: with an explicit config file, ESLint resolves the config's
// globs (apps/*/src/**/domain/**) against the cwd. The rules under test need no type information; without it, the
// Nx graph rule and import-x/no-cycle (which parses every imported package) a file lints in milliseconds.
const fixtureLinter = new ESLint({
  cwd: FIXTURES,
  overrideConfigFile: CONFIG_FILE,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@nx/enforce-module-boundaries': 'off', 'import-x/no-cycle': 'off' },
  },
});
// The real configuration as `npx eslint .` uses it; only asked which config applies, so it never type-checks.
const repoLinter = new ESLint({ cwd: REPO_ROOT });

/** Rule ids reported per line, each list sorted. */
type Findings = Record<number, string[]>;

function expectedFindings(code: string): Findings {
  const expected: Findings = {};
  code.split('\n').forEach((line, index) => {
    const marker = /\/\/ expect: (.+)$/.exec(line);
    if (marker)
      expected[index + 1] = marker[1]
        .split(',')
        .map((rule) => rule.trim())
        .sort();
  });
  return expected;
}

async function lintAt(relativePath: string, code: string): Promise<Findings> {
  const [result] = await fixtureLinter.lintText(code, { filePath: path.join(FIXTURES, relativePath), warnIgnored: true });
  const found: Findings = {};
  for (const message of result.messages) {
    // A parse error or an ignored file has no rule id; keep its text so that the assertion shows it.
    (found[message.line] ??= []).push(message.ruleId ?? `(${message.message})`);
  }
  for (const rules of Object.values(found)) rules.sort();
  return found;
}

function fixture(relativePath: string): string {
  return readFileSync(path.join(FIXTURES, relativePath), 'utf8');
}

const probes = readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .sort();

describe('boundary rules on the probes in tools/ci/lint-fixtures', () => {
  test('there are probes for every rule', () => {
    const marked = probes.flatMap((probe) => Object.values(expectedFindings(fixture(probe))).flat());
    for (const rule of ['no-restricted-imports', 'no-restricted-syntax', 'import-x/no-extraneous-dependencies']) {
      assert.ok(marked.includes(rule), `no probe line expects ${rule}`);
    }
  });

  for (const probe of probes) {
    test(`${probe}: reported on exactly the lines marked "expect"`, async () => {
      const code = fixture(probe);
      assert.deepEqual(await lintAt(probe, code), expectedFindings(code));
    });
  }
});

describe('the domain ban holds at every depth', () => {
  const banned = fixture('apps/probe/src/x/domain/y/banned-imports.ts');
  const allowed = fixture('apps/probe/src/x/domain/y/allowed-imports.ts');
  const domainFiles = [
    'apps/probe/src/domain/rules.ts',
    'apps/probe/src/domain/feed/rules.ts',
    'apps/probe/src/feed/domain/rules.ts',
    'apps/probe/src/webhooks/domain/intake/status/rules.ts',
  ];
  for (const file of domainFiles) {
    test(`${file}: every banned import reported, the allowed ones not`, async () => {
      assert.deepEqual(await lintAt(file, banned), expectedFindings(banned));
      assert.deepEqual(await lintAt(file, allowed), {});
    });
  }

  test('tests and testing/ harnesses may use the simulator, the SDK and devDependencies', async () => {
    const testCode = [
      "import '@waygate/whatsapp-simulator';",
      "import '@waygate/testing';",
      "import '@opentelemetry/sdk-trace-base';",
      "import '@opentelemetry/context-async-hooks';",
      "import 'fast-check';",
      "import '../adapters/sqlite-feed-store';",
    ].join('\n');
    for (const file of [
      'apps/probe/src/feed/domain/rules.test.ts',
      'apps/probe/src/server.test.ts',
      'apps/probe/src/feed/testing/feed-harness.ts',
    ]) {
      assert.deepEqual(await lintAt(file, testCode), {}, file);
    }
  });
});

describe('the repository configuration', () => {
  /** The options of no-restricted-imports for one file, as `npx eslint .` computes them. */
  async function restrictedGroups(relativePath: string): Promise<string[]> {
    const config = (await repoLinter.calculateConfigForFile(path.join(REPO_ROOT, relativePath))) as {
      rules: Record<string, [number, { patterns: { group?: string[] }[] }?]>;
    };
    const [severity, options] = config.rules['no-restricted-imports'] ?? [0];
    return severity === 0 || !options ? [] : options.patterns.flatMap((pattern) => pattern.group ?? []);
  }

  test('every domain file in apps/ gets the domain ban, whatever its depth', async () => {
    const domainFiles = readdirSync(path.join(REPO_ROOT, 'apps'), { recursive: true, encoding: 'utf8' })
      .map((file) => path.join('apps', file))
      .filter((file) => /^apps\/[^/]+\/src\/(?:.+\/)?domain\/.+\.ts$/.test(file) && !file.endsWith('.test.ts'));
    assert.ok(domainFiles.length > 10, `found only ${domainFiles.length} domain files`);
    for (const file of domainFiles) {
      const groups = await restrictedGroups(file);
      assert.ok(groups.includes('@waygate/contracts') && groups.includes('**/adapters/**'), `${file} is not covered by the domain ban`);
    }
  });

  test('wiring may start the SDK, but not import the simulator; tests may', async () => {
    const wiring = await restrictedGroups('apps/ingress/src/server.ts');
    assert.ok(wiring.includes('@waygate/whatsapp-simulator') && !wiring.includes('@waygate/telemetry-sdk'), wiring.join(' '));
    assert.deepEqual(await restrictedGroups('apps/ingress/src/server.test.ts'), []);
  });

  test('the probes are not linted with the repository', async () => {
    assert.equal(await repoLinter.isPathIgnored(path.join(FIXTURES, 'apps/probe/src/x/domain/y/banned-imports.ts')), true);
  });
});
