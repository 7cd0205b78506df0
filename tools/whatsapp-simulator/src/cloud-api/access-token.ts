import type { IncomingMessage } from 'node:http';

/** Graph API accepts the token as a Bearer header or an `access_token` query parameter. */
export function extractAccessToken(request: IncomingMessage, url: URL): string | undefined {
  const header = request.headers.authorization;
  const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  return bearer ?? url.searchParams.get('access_token') ?? undefined;
}
