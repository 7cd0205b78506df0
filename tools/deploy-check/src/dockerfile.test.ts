import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { dockerfileProblems, parseDockerfile } from './dockerfile';
import { REPO_ROOT } from './helm-chart';

const DOCKERFILE = readFileSync(path.join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8');
const problemsOf = (text: string) => dockerfileProblems(parseDockerfile(text));

/** The real Dockerfile with one edit; fails if the text to replace is gone (the probe would prove nothing). */
function edited(from: string | RegExp, to: string): string {
  const result = DOCKERFILE.replace(from, to);
  assert.notEqual(result, DOCKERFILE, `probe edit not applied: ${String(from)}`);
  return result;
}

test('deploy/Dockerfile: multi-stage, pinned bases, only built output and production deps, numeric non-root USER, no shell', () => {
  const parsed = parseDockerfile(DOCKERFILE);
  assert.deepEqual(
    parsed.stages.map((stage) => stage.name),
    ['build', 'prod-deps', 'runtime'],
  );
  assert.deepEqual(dockerfileProblems(parsed), []);
  const runtime = parsed.stages[2];
  assert.equal(runtime.instructions.find((instruction) => instruction.keyword === 'USER')?.args, '65532:65532');
  assert.deepEqual(
    runtime.instructions
      .filter((instruction) => instruction.keyword === 'CMD')
      .map((instruction) => JSON.parse(instruction.args) as string[]),
    [['--enable-source-maps', 'service/main.js']],
  );
});

test('the runtime user matches the chart: the pod runs as the image user 65532', () => {
  const values = readFileSync(path.join(REPO_ROOT, 'deploy', 'helm', 'waygate', 'values.yaml'), 'utf8');
  assert.match(values, /^ {2}runAsUser: 65532$/m);
  assert.match(values, /^ {2}runAsGroup: 65532$/m);
});

test('.dockerignore keeps local state, dependencies and build output out of the build context', () => {
  const ignored = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  for (const entry of ['**/node_modules', 'dist', '.data', '.git']) assert.ok(ignored.includes(entry), `.dockerignore lacks ${entry}`);
});

for (const [label, text, expected] of [
  ['a single stage', 'FROM node:20.19.5-bookworm\nCOPY . .\nUSER 1000\nCMD ["main.js"]\n', /not multi-stage/],
  ['a latest tag', edited('nodejs20-debian12:nonroot', 'nodejs20-debian12:latest'), /pin a tag other than latest/],
  ['an untagged base', edited('FROM node:${NODE_VERSION}-bookworm AS prod-deps', 'FROM node AS prod-deps'), /FROM node: pin a tag/],
  ['no USER', edited(/^USER .*$/m, ''), /sets no USER/],
  ['a named USER', edited(/^USER .*$/m, 'USER nonroot'), /numeric uid/],
  ['USER root by uid', edited(/^USER .*$/m, 'USER 0:0'), /is root/],
  ['the build context copied into the runtime', edited('USER 65532', 'COPY . .\nUSER 65532'), /takes files from the build context/],
  [
    'sources copied from the build stage',
    edited('COPY --from=build /out/service ./service', 'COPY --from=build /repo/apps ./apps'),
    /COPY of \/repo\/apps/,
  ],
  ['a RUN in the runtime stage', edited('USER 65532', 'RUN rm -rf /tmp/x\nUSER 65532'), /RUN in the runtime stage/],
  ['a shell-form CMD', edited(/^CMD .*$/m, 'CMD node service/main.js'), /shell form/],
  ['a HEALTHCHECK', edited('USER 65532', 'HEALTHCHECK CMD ["/nodejs/bin/node", "-e", "1"]\nUSER 65532'), /HEALTHCHECK/],
  ['dev dependencies installed for the runtime', edited('npm ci --omit=dev', 'npm ci'), /npm ci --omit=dev/],
] as const) {
  test(`the Dockerfile check refuses ${label}`, () => {
    const problems = problemsOf(text);
    assert.ok(
      problems.some((problem) => expected.test(problem)),
      `expected a problem matching ${String(expected)}, got ${JSON.stringify(problems)}`,
    );
  });
}
