/** Each service, started as a real process with bad configuration, exits at once naming the bad variable. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SERVICES } from '@waygate/local-run';
import { launchProcess, ProcessLaunchError, tsxEntryCommand } from '@waygate/testing';

for (const service of SERVICES) {
  test(`${service} refuses to start with invalid configuration and names each bad variable`, async () => {
    const lines: string[] = [];
    const launched = launchProcess({
      name: service,
      ...tsxEntryCommand(`apps/${service}/src/main.ts`),
      env: { PATH: process.env.PATH, WAYGATE_REGION: 'asia', WAYGATE_GRPC_PORT: 'seventy' },
      ready: { line: `${service} listening` },
      readyTimeoutMs: 20_000,
      output: { onLine: (line) => lines.push(line) },
    });
    // Refusing to start is the launcher's "exited before it was ready", not a timeout.
    await assert.rejects(launched.ready, (error) => error instanceof ProcessLaunchError && error.reason === 'exited');
    assert.deepEqual(await launched.exited, { code: 1, signal: null });
    const fatal = lines.map((line) => JSON.parse(line) as { level: string; msg: string }).find((line) => line.level === 'fatal');
    assert.ok(fatal, lines.join('\n'));
    assert.match(fatal.msg, /WAYGATE_REGION: must be "eu" or "us"/);
    assert.match(fatal.msg, /WAYGATE_GRPC_PORT/);
    assert.match(fatal.msg, /WAYGATE_TENANTS_FILE/);
    // The services that call or serve an internal API cannot start without the region's service token.
    if (['ingress', 'delivery-retry', 'receipt', 'archive'].includes(service))
      assert.match(fatal.msg, /WAYGATE_INTERNAL_SERVICE_TOKEN: required/);
  });
}
