import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { RetentionPolicyError } from '@waygate/tenancy';
import { tenantsYaml, waitFor, type TestTenant } from '@waygate/testing';
import { startArchive } from '../server';
import { startArchiveHarness, type ArchiveHarness } from '../testing/archive-harness';

// Compliance mode (like SEC 17a-4's WORM): the archive persists each tenant's longest archive retention and refuses a
// shorter one, or a switch back to operational, at startup and on every reload of the tenants file.
const analyzeText = async () => ({ language: 'en', score: 0, label: 'neutral' as const });
const tenant = (governance?: object): TestTenant => ({
  id: 'acme',
  homeRegion: 'eu',
  apiKey: 'key-acme-retention',
  phoneNumberIds: ['200'],
  ...(governance ? { governance } : {}),
});
const other: TestTenant = {
  id: 'umbrella',
  homeRegion: 'eu',
  apiKey: 'key-umbrella-retention',
  governance: { mode: 'operational', archiveRetentionDays: 30 },
};

let harness: ArchiveHarness;

before(async () => {
  harness = await startArchiveHarness({ tenants: [tenant({ mode: 'compliance', archiveRetentionDays: 30 }), other], analyzeText });
});

after(() => harness?.stop());

function writeTenants(...tenants: TestTenant[]): void {
  writeFileSync(harness.config.tenantsFile, tenantsYaml(tenants));
}

async function startRefusal(): Promise<RetentionPolicyError> {
  try {
    const archive = await startArchive(harness.config, harness.logger, { analyzeText });
    await archive.stop();
  } catch (error) {
    assert.ok(error instanceof RetentionPolicyError, String(error));
    return error;
  }
  assert.fail('the archive started');
}

test('at startup: a shorter compliance retention, or operational mode, is refused naming tenant and setting', async () => {
  await harness.restart(async () => {
    writeTenants(tenant({ mode: 'compliance', archiveRetentionDays: 10 }), other);
    const shorter = await startRefusal();
    assert.match(shorter.message, /tenant "acme", governance\.archiveRetentionDays: 10 days is shorter than the 30 days/);
    writeTenants(tenant({ mode: 'operational', archiveRetentionDays: 30 }), other);
    assert.match((await startRefusal()).message, /tenant "acme", governance\.mode: .*cannot go back to operational/);
    writeTenants(tenant(), other);
    assert.match((await startRefusal()).message, /tenant "acme", governance\.mode/, 'dropping the settings is going back too');
    // An operational tenant may shorten freely; a compliance tenant may lengthen (and the floor rises with it).
    writeTenants(tenant({ mode: 'compliance', archiveRetentionDays: 60 }), {
      ...other,
      governance: { mode: 'operational', archiveRetentionDays: 1 },
    });
  });
  await harness.restart(async () => {
    writeTenants(tenant({ mode: 'compliance', archiveRetentionDays: 45 }), other);
    assert.match((await startRefusal()).message, /45 days is shorter than the 60 days/, 'the floor is the longest ever in force');
    writeTenants(tenant({ mode: 'compliance', archiveRetentionDays: 60 }), other);
  });
});

test('on reload: a shorter compliance retention is refused, logged, and the previous file stays in force', async () => {
  const refusalsBefore = harness.logLines.filter((line) => line.includes('tenants file refused')).length;
  writeTenants(tenant({ mode: 'compliance', archiveRetentionDays: 7 }), other);
  const line = await waitFor(
    () => harness.logLines.filter((candidate) => candidate.includes('tenants file refused')).slice(refusalsBefore)[0],
    { what: 'the reload to be refused' },
  );
  assert.match(line, /"level":"error"/);
  assert.match(line, /tenant \\"acme\\", governance\.archiveRetentionDays: 7 days is shorter than the 60 days/);
  // A later valid change (lengthening) is taken, and raises the floor for the next start.
  writeTenants(tenant({ mode: 'compliance', archiveRetentionDays: 90 }), other);
  await waitFor(() => harness.logLines.some((candidate) => candidate.includes('tenants file reloaded')), { what: 'the reload' });
  // (SQLite persists the raised floor before accept returns.)
  await harness.restart(async () => {
    writeTenants(tenant({ mode: 'compliance', archiveRetentionDays: 60 }), other);
    assert.match((await startRefusal()).message, /60 days is shorter than the 90 days/);
    writeTenants(tenant({ mode: 'compliance', archiveRetentionDays: 90 }), other);
  });
});
