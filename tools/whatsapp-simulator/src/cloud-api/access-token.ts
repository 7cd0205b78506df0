import type { IncomingMessage } from 'node:http';

/** The token of an `Authorization: Bearer` header, if any. */
export function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  return header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
}

/** Graph API accepts the token as a Bearer header or an `access_token` query parameter. */
export function extractAccessToken(request: IncomingMessage, url: URL): string | undefined {
  return bearerToken(request) ?? url.searchParams.get('access_token') ?? undefined;
}
