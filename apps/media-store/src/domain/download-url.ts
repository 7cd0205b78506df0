import { createHmac, timingSafeEqual } from 'node:crypto';

/** Default validity of a signed download URL. */
export const DEFAULT_URL_TTL_SECONDS = 300;
/** Longest validity a caller may ask for. */
export const MAX_URL_TTL_SECONDS = 3600;
const LABEL = 'waygate.media.url.v1';

/** What a signed URL grants: one media id of one tenant, until `expiresAt`. */
export interface DownloadGrant {
  readonly tenantId: string;
  readonly mediaId: string;
  /** Unix seconds. */
  readonly expires: number;
}

function mac(secret: Buffer, grant: DownloadGrant): Buffer {
  // Newline-separated: tenant ids and media ids cannot contain one, so the encoding is unambiguous.
  return createHmac('sha256', secret).update(`${LABEL}\n${grant.tenantId}\n${grant.mediaId}\n${grant.expires}`, 'utf8').digest();
}

/** The URL path and query for a grant: `/media/<tenant>/<media id>?expires=<unix s>&signature=<base64url HMAC>`. */
export function signedDownloadPath(secret: Buffer, grant: DownloadGrant): string {
  const signature = mac(secret, grant).toString('base64url');
  return `/media/${encodeURIComponent(grant.tenantId)}/${encodeURIComponent(grant.mediaId)}?expires=${grant.expires}&signature=${signature}`;
}

/**
 * Checks a presented URL against every accepted secret (the current and, during a KEK rotation, the previous ones),
 * comparing MACs timing-safe. The grant when valid and unexpired at `now`; undefined otherwise, for every reason
 * alike (the caller answers 403 without saying which, or whether the media exists).
 */
export function verifyDownloadPath(
  secrets: readonly Buffer[],
  pathname: string,
  query: URLSearchParams,
  now: Date,
): DownloadGrant | undefined {
  const match = /^\/media\/([a-z0-9-]{1,63})\/([A-Za-z0-9_]{1,128})$/.exec(pathname);
  const expiresText = query.get('expires') ?? '';
  const signatureText = query.get('signature') ?? '';
  if (!match || !/^\d{1,12}$/.test(expiresText) || !/^[A-Za-z0-9_-]{43}$/.test(signatureText)) return undefined;
  const grant: DownloadGrant = { tenantId: match[1] as string, mediaId: match[2] as string, expires: Number(expiresText) };
  const presented = Buffer.from(signatureText, 'base64url');
  let valid = false;
  // Every secret is checked (no early exit), so timing does not tell which one matched.
  for (const secret of secrets) valid = timingSafeEqual(presented, mac(secret, grant)) || valid;
  if (!valid || grant.expires * 1000 <= now.getTime()) return undefined;
  return grant;
}
