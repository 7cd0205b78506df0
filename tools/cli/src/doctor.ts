import type { Tenant } from '@waygate/tenancy';

/** One onboarding check and what it found. */
export interface DoctorCheck {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

interface GraphAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function graphGet(baseUrl: string, version: string, path: string, token: string, timeoutMs: number): Promise<GraphAnswer> {
  const response = await fetch(`${baseUrl.replace(/\/$/, '')}/${version}/${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { status: response.status, body };
}

/** Meta's error as one line (code and message), never the token. */
function metaError(answer: GraphAnswer): string {
  const error = answer.body.error as { code?: number; message?: string } | undefined;
  return error
    ? `HTTP ${answer.status}, Meta error ${error.code ?? '?'}: ${String(error.message ?? '').slice(0, 200)}`
    : `HTTP ${answer.status}`;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Checks a tenant's onboarding against the Graph API, per number of the tenants file: the access token is accepted,
 * the number is registered on the Cloud API, the app is subscribed to the WABA's webhooks (and where they go: the
 * override or app callback URL, compared with `expectedWebhookUrl` when given), and its quality and messaging tier.
 */
export async function runDoctor(options: {
  tenant: Tenant;
  graphBaseUrl: string;
  graphVersion: string;
  expectedWebhookUrl?: string;
  timeoutMs?: number;
}): Promise<DoctorCheck[]> {
  const { tenant, graphBaseUrl, graphVersion } = options;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const checks: DoctorCheck[] = [];
  const add = (check: string, ok: boolean, detail: string) => checks.push({ check, ok, detail });
  let subscriptionToken: string | undefined;
  /** Where Meta sends `messages` webhooks for the first readable number: its override, the WABA's, or the app's. */
  let effectiveWebhook: { url: string; from: string } | undefined;

  for (const number of tenant.whatsapp.phoneNumbers) {
    const label = `number ${number.id}`;
    let answer: GraphAnswer;
    try {
      answer = await graphGet(graphBaseUrl, graphVersion, encodeURIComponent(number.id), number.accessToken, timeoutMs);
    } catch (error) {
      add(`${label}: Graph API reachable`, false, (error as Error).message);
      continue;
    }
    if (answer.status === 401 || (answer.body.error as { code?: number } | undefined)?.code === 190) {
      add(`${label}: access token valid`, false, metaError(answer));
      continue;
    }
    if (answer.status !== 200) {
      add(`${label}: number readable with its token`, false, metaError(answer));
      continue;
    }
    subscriptionToken ??= number.accessToken;
    const configuration = (answer.body.webhook_configuration ?? {}) as Record<string, unknown>;
    const [from, url] =
      (
        [
          ['phone number override', str(configuration.phone_number)],
          ['WABA override', str(configuration.whatsapp_business_account)],
          ['app callback', str(configuration.application)],
        ] as const
      ).find(([, candidate]) => candidate !== '') ?? [];
    if (url && from) effectiveWebhook ??= { url, from };
    add(`${label}: access token valid`, true, 'Graph API accepted the token');
    const verification = str(answer.body.code_verification_status);
    const platform = str(answer.body.platform_type);
    const registered = platform === 'CLOUD_API' && str(answer.body.status) !== 'PENDING';
    add(
      `${label}: registered on the Cloud API`,
      registered,
      `platform ${platform || 'unknown'}, status ${str(answer.body.status) || 'unknown'}, verification ${verification || 'unknown'}`,
    );
    const display = str(answer.body.display_phone_number);
    const sameNumber = display.replace(/\D/g, '') === number.displayPhoneNumber.replace(/\D/g, '');
    add(`${label}: display number matches the tenants file`, sameNumber, `Meta: ${display || 'none'}`);
    const tier = str(answer.body.whatsapp_business_manager_messaging_limit);
    const quality = str(answer.body.quality_rating);
    const throughput = str((answer.body.throughput as { level?: string } | undefined)?.level);
    add(
      `${label}: messaging tier`,
      tier !== '',
      `limit ${tier || 'unknown'}, quality ${quality || 'unknown'}, throughput ${throughput || 'unknown'}`,
    );
    if (quality === 'RED') add(`${label}: quality`, false, 'quality rating RED: the number is flagged');
  }

  if (!subscriptionToken) {
    add('webhook subscription', false, 'no number answered with its token, so the WABA could not be read');
    return checks;
  }
  let subscribed: GraphAnswer;
  try {
    subscribed = await graphGet(
      graphBaseUrl,
      graphVersion,
      `${encodeURIComponent(tenant.whatsapp.wabaId)}/subscribed_apps`,
      subscriptionToken,
      timeoutMs,
    );
  } catch (error) {
    add('webhook subscription', false, (error as Error).message);
    return checks;
  }
  if (subscribed.status !== 200) {
    add('webhook subscription', false, metaError(subscribed));
    return checks;
  }
  const apps = Array.isArray(subscribed.body.data) ? (subscribed.body.data as Record<string, unknown>[]) : [];
  add(
    `WABA ${tenant.whatsapp.wabaId}: app subscribed to webhooks`,
    apps.length > 0,
    apps.length > 0 ? `${apps.length} app(s)` : 'no app subscribed',
  );
  const where = effectiveWebhook ? `Meta sends to ${effectiveWebhook.url} (${effectiveWebhook.from})` : 'Meta names no callback URL';
  if (options.expectedWebhookUrl) add('webhook URL', effectiveWebhook?.url === options.expectedWebhookUrl, where);
  else add('webhook URL', effectiveWebhook !== undefined, where);
  return checks;
}
