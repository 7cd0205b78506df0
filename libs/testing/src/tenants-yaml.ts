import { API_KEY_SCOPES, hashApiKey, type ApiKeyScope } from '@waygate/tenancy';

/** A further API key of a test tenant. */
export interface TestApiKey {
  readonly apiKey: string;
  /** The tenants file's `id` (default: derived from the hash). */
  readonly id?: string;
  /** The tenants file's `scopes`; `'default'` leaves them out (the key gets messages and events only). */
  readonly scopes: readonly ApiKeyScope[] | 'default';
}

/** A tenant for tests; everything but id, region and API key has a predictable default derived from the id. */
export interface TestTenant {
  readonly id: string;
  readonly homeRegion: 'eu' | 'us';
  readonly apiKey: string;
  /**
   * Scopes of `apiKey`. Default: every scope, written out, so that tests of a feature need not think about scopes;
   * `'default'` leaves them out (messages and events only), as an existing tenants file does.
   */
  readonly scopes?: readonly ApiKeyScope[] | 'default';
  /** The tenants file's `id` of `apiKey` (default: derived from its hash). */
  readonly apiKeyId?: string;
  /** More keys of the tenant, after `apiKey`. */
  readonly moreApiKeys?: readonly TestApiKey[];
  readonly appSecret?: string;
  readonly verifyToken?: string;
  readonly wabaId?: string;
  /** Phone number ids; default one number `pn-<id>`. */
  readonly phoneNumberIds?: readonly string[];
  readonly accessToken?: string;
  /** Messages per second of every number of the tenant (default: the tenancy default, 80). */
  readonly throughputMps?: number;
  /** Callback endpoints; the secret is given as is. */
  readonly callbacks?: readonly { id: string; url: string; signingSecret: string }[];
  /** The tenants file's `sendLimits` (rate and daily quota), written as given. */
  readonly sendLimits?: { sendsPerSecond?: number; burst?: number; dailyQuota?: number };
  /** The tenants file's `optOut` (stop keywords, opt-out quick-reply payloads), written as given. */
  readonly optOut?: { stopKeywords?: readonly string[]; quickReplyPayloads?: readonly string[] };
  /** The tenants file's `archive` settings (rate card, scorecard), written as given. */
  readonly archive?: object;
  /** The tenants file's `verification` (default template, hourly send limits), written as given. */
  readonly verification?: {
    defaultTemplate?: { name: string; language?: string };
    sendsPerNumberPerHour?: number;
    sendsPerTenantPerHour?: number;
  };
}

/** One `apiKeys` entry in flow style. */
function apiKeyYaml(key: TestApiKey): string {
  const id = key.id === undefined ? '' : `, id: ${JSON.stringify(key.id)}`;
  const scopes = key.scopes === 'default' ? '' : `, scopes: ${JSON.stringify(key.scopes)}`;
  return `{ sha256: ${hashApiKey(key.apiKey)}${id}${scopes} }`;
}

/** A tenants file (the WAYGATE_TENANTS_FILE format) for the given tenants. */
export function tenantsYaml(tenants: readonly TestTenant[]): string {
  const entries = tenants.map((tenant) => {
    const keys: TestApiKey[] = [
      {
        apiKey: tenant.apiKey,
        scopes: tenant.scopes ?? API_KEY_SCOPES,
        ...(tenant.apiKeyId === undefined ? {} : { id: tenant.apiKeyId }),
      },
      ...(tenant.moreApiKeys ?? []),
    ];
    const numbers = (tenant.phoneNumberIds ?? [`pn-${tenant.id}`])
      .map(
        (id, index) =>
          `{ id: "${id}", displayPhoneNumber: "+1555000${String(1000 + index)}", accessToken: "${tenant.accessToken ?? `token-${tenant.id}`}"${tenant.throughputMps ? `, throughputMps: ${tenant.throughputMps}` : ''} }`,
      )
      .join(', ');
    return `  - id: ${tenant.id}
    name: ${tenant.id}
    homeRegion: ${tenant.homeRegion}
    apiKeys: [${keys.map(apiKeyYaml).join(', ')}]
    whatsapp:
      wabaId: "${tenant.wabaId ?? `waba-${tenant.id}`}"
      appSecret: "${tenant.appSecret ?? `secret-${tenant.id}`}"
      verifyToken: "${tenant.verifyToken ?? `verify-${tenant.id}`}"
      phoneNumbers: [${numbers}]
    callbacks: ${JSON.stringify(tenant.callbacks ?? [])}${tenant.sendLimits ? `\n    sendLimits: ${JSON.stringify(tenant.sendLimits)}` : ''}${tenant.optOut ? `\n    optOut: ${JSON.stringify(tenant.optOut)}` : ''}${tenant.archive ? `\n    archive: ${JSON.stringify(tenant.archive)}` : ''}${tenant.verification ? `\n    verification: ${JSON.stringify(tenant.verification)}` : ''}`;
  });
  return `tenants:\n${entries.join('\n')}\n`;
}
