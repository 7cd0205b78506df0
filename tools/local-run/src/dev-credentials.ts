import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { API_KEY_SCOPES, hashApiKey } from '@waygate/tenancy';

/** Credentials of the seeded demo tenants, kept in the data folder so they survive restarts. */
export interface DevCredentials {
  /** The EU demo tenant `demo`. */
  readonly apiKey: string;
  readonly phoneNumberId: string;
  readonly displayPhoneNumber: string;
  readonly accessToken: string;
  readonly appSecret: string;
  readonly verifyToken: string;
  readonly wabaId: string;
  /** A second tenant, `demo-us`, homed in the US: calls for it in the EU stack are refused. */
  readonly usApiKey: string;
  /**
   * The region's internal service token (WAYGATE_INTERNAL_SERVICE_TOKEN of every service): receipt stores media in
   * media-store with it, and an operator calls the dead-letter admin API with it.
   */
  readonly internalServiceToken: string;
  /** The US stack's own internal service token (`npm start -- --regions eu,us`): no token works across regions. */
  readonly usInternalServiceToken: string;
}

/** A region's seeded demo tenant, as its stack and the simulator need it. */
export interface RegionDemoTenant {
  readonly region: 'eu' | 'us';
  readonly tenantId: string;
  readonly name: string;
  readonly apiKey: string;
  readonly wabaId: string;
  readonly appSecret: string;
  readonly verifyToken: string;
  readonly phoneNumberId: string;
  readonly displayPhoneNumber: string;
  readonly accessToken: string;
  /** That region's internal service token. */
  readonly internalServiceToken: string;
}

/**
 * The demo tenant homed in `region`: `demo` (EU) or `demo-us` (US, with its own WABA, number and app secret derived
 * from the stored EU values, so one dev-credentials.json describes both).
 */
export function regionDemoTenant(credentials: DevCredentials, region: 'eu' | 'us'): RegionDemoTenant {
  if (region === 'eu') {
    return {
      region,
      tenantId: 'demo',
      name: 'Demo Enterprise (EU)',
      apiKey: credentials.apiKey,
      wabaId: credentials.wabaId,
      appSecret: credentials.appSecret,
      verifyToken: credentials.verifyToken,
      phoneNumberId: credentials.phoneNumberId,
      displayPhoneNumber: credentials.displayPhoneNumber,
      accessToken: credentials.accessToken,
      internalServiceToken: credentials.internalServiceToken,
    };
  }
  return {
    region,
    tenantId: 'demo-us',
    name: 'Demo Enterprise (US)',
    apiKey: credentials.usApiKey,
    wabaId: `2${credentials.wabaId.slice(1)}`,
    appSecret: `${credentials.appSecret}-us`,
    verifyToken: `${credentials.verifyToken}-us`,
    phoneNumberId: `2${credentials.phoneNumberId.slice(1)}`,
    displayPhoneNumber: `+1555000${credentials.displayPhoneNumber.slice(-4)}`,
    accessToken: `${credentials.accessToken}-us`,
    internalServiceToken: credentials.usInternalServiceToken,
  };
}

const digits = (count: number) => Array.from({ length: count }, () => randomInt(0, 10)).join('');

/**
 * Loads the demo credentials from `<dataDir>/dev-credentials.json` (creating them on first run, file mode 0600);
 * WAYGATE_DEV_API_KEY, WAYGATE_DEV_PHONE_NUMBER_ID and WAYGATE_DEV_APP_SECRET override the stored values.
 */
export function loadDevCredentials(dataDir: string, env: NodeJS.ProcessEnv = process.env): DevCredentials {
  const file = path.join(dataDir, 'dev-credentials.json');
  const stored: Partial<DevCredentials> = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DevCredentials>) : {};
  const credentials: DevCredentials = {
    apiKey: env.WAYGATE_DEV_API_KEY || stored.apiKey || `wg_dev_${randomBytes(24).toString('base64url')}`,
    phoneNumberId: env.WAYGATE_DEV_PHONE_NUMBER_ID || stored.phoneNumberId || `1${digits(14)}`,
    displayPhoneNumber: stored.displayPhoneNumber || `+1555${digits(7)}`,
    accessToken: stored.accessToken || `EAAdev${randomBytes(30).toString('base64url')}`,
    appSecret: env.WAYGATE_DEV_APP_SECRET || stored.appSecret || randomBytes(16).toString('hex'),
    verifyToken: stored.verifyToken || randomBytes(12).toString('hex'),
    wabaId: stored.wabaId || `1${digits(14)}`,
    usApiKey: stored.usApiKey || `wg_dev_us_${randomBytes(24).toString('base64url')}`,
    internalServiceToken: stored.internalServiceToken || randomBytes(32).toString('hex'),
    usInternalServiceToken: stored.usInternalServiceToken || randomBytes(32).toString('hex'),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return credentials;
}

/** The tenants YAML for the local stacks: the EU demo tenant and the US one (API keys as hashes only). */
export function devTenantsYaml(credentials: DevCredentials): string {
  const tenant = (t: RegionDemoTenant) => `  - id: ${t.tenantId}
    name: ${t.name}
    homeRegion: ${t.region}
    apiKeys:
      - sha256: ${hashApiKey(t.apiKey)}
        id: ${t.tenantId}-admin
        # The demo key may do everything; a production key gets only the scopes it needs (docs/governance.md).
        scopes: [${API_KEY_SCOPES.join(', ')}]
    whatsapp:
      wabaId: "${t.wabaId}"
      appSecret: "${t.appSecret}"
      verifyToken: "${t.verifyToken}"
      phoneNumbers:
        - id: "${t.phoneNumberId}"
          displayPhoneNumber: "${t.displayPhoneNumber}"
          accessToken: "${t.accessToken}"
    verification: # StartVerification without a template sends the simulator's copy-code authentication template
      defaultTemplate: { name: login_code, language: en_US }
`;
  return `# Generated by the local runner from dev-credentials.json. Production tenants files look the same.
tenants:
${tenant(regionDemoTenant(credentials, 'eu'))}${tenant(regionDemoTenant(credentials, 'us'))}`;
}
