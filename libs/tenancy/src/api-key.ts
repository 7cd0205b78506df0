/**
 * What an API key may do (issue 14). Each tenant-facing RPC needs exactly one of these (the table is
 * libs/grpc/src/rpc-scopes.ts; docs/governance.md, "API key scopes", lists it).
 */
export const API_KEY_SCOPES = [
  'messages:send',
  'messages:read',
  'events:read',
  'media:write',
  'media:read',
  'templates:read',
  'optouts:write',
  'verify',
  'archive:read',
  'archive:export',
  'governance:admin',
] as const;

/** One scope of {@link API_KEY_SCOPES}. */
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/**
 * The reach of a key configured without `scopes`: what every key could do before scopes existed (sending, reading
 * messages, watching events), so existing tenants files keep working and nothing new (archive, media, governance)
 * opens to them by default.
 */
export const DEFAULT_API_KEY_SCOPES: readonly ApiKeyScope[] = ['messages:send', 'messages:read', 'events:read'];

/** A tenant's API key, as the tenants file configures it; the key itself is never stored. */
export interface ApiKey {
  /** Hex SHA-256 of the key. */
  readonly sha256: string;
  /**
   * Names the key in logs and the access log without revealing it; unique within its tenant. Default:
   * {@link defaultApiKeyId}.
   */
  readonly id: string;
  /** What the key may do: its configured scopes, or {@link DEFAULT_API_KEY_SCOPES} when none are configured. */
  readonly scopes: readonly ApiKeyScope[];
}

/** The id of a key configured without one: `key_` and the first 12 hex digits of its SHA-256. */
export function defaultApiKeyId(sha256: string): string {
  return `key_${sha256.slice(0, 12)}`;
}

/** Whether `value` names a scope (for scopes read back from call metadata). */
export function isApiKeyScope(value: string): value is ApiKeyScope {
  return (API_KEY_SCOPES as readonly string[]).includes(value);
}
