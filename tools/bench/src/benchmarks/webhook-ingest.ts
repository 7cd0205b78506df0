import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeliverPolicy, headers as natsHeaders } from 'nats';
import {
  connectJetStream,
  ensureRegionStreams,
  messageOrderKey,
  ORDER_KEY_HEADER,
  regionStreams,
  regionSubjects,
  type JetStreamConnection,
} from '@waygate/nats';
import { MessageStatus, MessageStatusChanged, StatusSource } from '@waygate/proto';
import { createTempDir, freePort, startNatsServer } from '@waygate/testing';
import { computeWebhookSignature, type StatusWebhookStatus, type WhatsAppWebhookPayload } from '@waygate/whatsapp-simulator';
import type { BenchProfile } from '../bench-options';
import { withCleanup } from '../cleanup';
import { describePhase, warmupOf, type BenchmarkResult, type ProgressLog } from '../benchmark-result';
import type { CompletionTracker } from '../completion-tracker';
import { openLoopSendCount } from '../load-generator';
import { MAX_OUTSTANDING_SENDS, round, runPhase, type PhaseResult, type PhaseSpec, type Sender } from '../phase';
import { CpuMeter, SELF } from '../process-stats';
import { startService, type ServiceProcess } from '../service-process';
import { BENCH_REGION, BENCH_TENANT, benchEventOpener, benchTenantsYaml, recipientFor, serviceBaseEnv } from './bench-tenant';

/** Connections the webhook sender keeps open to receipt (Meta's own concurrency is not documented). */
const HTTP_CONNECTIONS = 64;
/** SENT events published to JetStream at once while seeding. */
const SEED_CONCURRENCY = 512;

type WebhookStatusKind = 'delivered' | 'read';
const PROTO_STATUS: Record<WebhookStatusKind, MessageStatus> = {
  delivered: MessageStatus.MESSAGE_STATUS_DELIVERED,
  read: MessageStatus.MESSAGE_STATUS_READ,
};

/** A message receipt knows: the wamid delivery-retry reported as SENT, and its recipient. */
interface KnownMessage {
  readonly wamid: string;
  readonly messageId: string;
  readonly waId: string;
}

interface PreparedPost {
  readonly body: Buffer;
  readonly signature: string;
  /** `<wamid>|<proto status>` of each status in the body. */
  readonly keys: readonly string[];
}

/** One measured phase: offered statuses/s, statuses per POST, and which status it reports (lifecycle order per wamid). */
interface WebhookPhasePlan {
  readonly spec: PhaseSpec;
  readonly ratePerSec: number;
  readonly batchSize: number;
  readonly status: WebhookStatusKind;
}

const statusKey = (wamid: string, status: MessageStatus) => `${wamid}|${status}`;

/** A status entry as the simulator (and Meta) build it: pricing on `delivered`, none on a later `read`. */
function statusObject(message: KnownMessage, status: WebhookStatusKind, timestampSec: number): StatusWebhookStatus {
  return {
    id: message.wamid,
    status,
    timestamp: String(timestampSec),
    recipient_id: message.waId,
    ...(status === 'delivered'
      ? { pricing: { billable: false, pricing_model: 'PMP', type: 'free_customer_service', category: 'service' } as const }
      : {}),
  };
}

/** Meta's envelope for one business number: one entry (the WABA), one change, `batch` statuses. */
function preparePost(messages: readonly KnownMessage[], status: WebhookStatusKind): PreparedPost {
  const timestampSec = Math.floor(Date.now() / 1000);
  const payload: WhatsAppWebhookPayload = {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: BENCH_TENANT.wabaId,
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: BENCH_TENANT.displayPhoneNumber.replace(/\D/g, ''),
                phone_number_id: BENCH_TENANT.phoneNumberId,
              },
              statuses: messages.map((message) => statusObject(message, status, timestampSec)),
            },
            field: 'messages',
          },
        ],
      },
    ],
  };
  const body = Buffer.from(JSON.stringify(payload));
  return {
    body,
    signature: computeWebhookSignature(BENCH_TENANT.appSecret, body),
    keys: messages.map((message) => statusKey(message.wamid, PROTO_STATUS[status])),
  };
}

function knownMessage(sequence: number): KnownMessage {
  const { waId } = recipientFor(sequence);
  // Shaped like Meta's wamids (base64 of the recipient and an id); only unique-ness matters to receipt.
  const wamid = `wamid.${Buffer.from(`${waId}:BENCH${String(sequence).padStart(12, '0')}`).toString('base64')}`;
  return { wamid, messageId: `msg_bench_${sequence}`, waId };
}

/**
 * POSTs one webhook body. A request written to a kept-alive socket that the server closed as idle at that moment
 * fails with ECONNRESET before the server read it (Node's documented keep-alive race, `request.reusedSocket`); like
 * Meta, which retries a webhook that failed, it is sent once more on a fresh socket. Nothing else is retried.
 */
async function postWebhook(agent: http.Agent, port: number, post: PreparedPost): Promise<number> {
  try {
    return await postWebhookOnce(agent, port, post);
  } catch (error) {
    if (!(error instanceof ReusedSocketReset)) throw error;
    return postWebhookOnce(agent, port, post);
  }
}

/** A request on a reused keep-alive socket was reset: the server closed the socket before it read the request. */
class ReusedSocketReset extends Error {}

function postWebhookOnce(agent: http.Agent, port: number, post: PreparedPost): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/webhooks/whatsapp',
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': post.body.length,
          'x-hub-signature-256': post.signature,
          'user-agent': 'facebookexternalua',
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      reject(request.reusedSocket && error.code === 'ECONNRESET' ? new ReusedSocketReset(error.message) : error),
    );
    request.end(post.body);
  });
}

/**
 * Tells receipt about `messages` as delivery-retry does (MessageStatusChanged SENT with the wamid on
 * `waygate.<r>.events.delivery`), then waits until every consumer of that subject has processed everything.
 */
async function seedKnownMessages(connection: JetStreamConnection, messages: readonly KnownMessage[]): Promise<void> {
  const subjects = regionSubjects(BENCH_REGION);
  const inFlight = new Set<Promise<unknown>>();
  for (const message of messages) {
    const eventId = `${message.messageId}:delivery:sent`;
    const data = MessageStatusChanged.encode(
      MessageStatusChanged.fromPartial({
        eventId,
        tenantId: BENCH_TENANT.id,
        messageId: message.messageId,
        status: MessageStatus.MESSAGE_STATUS_SENT,
        waMessageId: message.wamid,
        occurredAt: new Date(),
        source: StatusSource.STATUS_SOURCE_DELIVERY,
        recipient: `+${message.waId}`,
      }),
    ).finish();
    // With the order key delivery-retry gives every status event of a message.
    const headers = natsHeaders();
    headers.set(ORDER_KEY_HEADER, messageOrderKey(BENCH_TENANT.id, message.messageId));
    const publish: Promise<unknown> = connection.js
      .publish(subjects.deliveryEvents, data, { msgID: eventId, headers })
      .finally(() => inFlight.delete(publish));
    inFlight.add(publish);
    if (inFlight.size >= SEED_CONCURRENCY) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const stream = regionStreams(BENCH_REGION).events.name;
  const deadline = Date.now() + 300_000;
  for (;;) {
    const consumers = await connection.jsm.consumers.list(stream).next();
    const readers = consumers.filter(
      (info) => info.config.filter_subject === subjects.deliveryEvents || info.config.filter_subjects?.includes(subjects.deliveryEvents),
    );
    if (readers.length === 0) throw new Error(`no consumer of ${subjects.deliveryEvents}: receipt cannot learn wamids`);
    if (readers.every((info) => info.num_pending === 0 && info.num_ack_pending === 0)) return;
    if (Date.now() > deadline) throw new Error('receipt did not process the seeded SENT events within 5 minutes');
    await sleep(50);
  }
}

/**
 * Receipt's webhook ingest: signed Meta status webhooks POSTed to `/webhooks/whatsapp` -> 200 once queued on
 * JetStream -> processed -> MessageStatusChanged on `waygate.<r>.events.receipt`. Receipt runs as a child process on
 * SQLite; the statuses are for wamids receipt already knows (seeded before measuring, as delivery-retry would).
 */
export async function runWebhookIngest(
  profile: BenchProfile,
  options: { serviceEnv: Readonly<Record<string, string>> },
  log: ProgressLog,
): Promise<BenchmarkResult> {
  const started = performance.now();
  const phases: PhaseResult[] = [];
  const preparation: Record<string, number> = {};
  const result = (extra: Partial<BenchmarkResult>): BenchmarkResult => ({
    name: 'webhook-ingest',
    title: 'Webhook ingest: signed status webhooks -> receipt -> MessageStatusChanged',
    method: [
      'receipt as a child process (as npm start runs it) on SQLite in a temp folder, log level info to a file; one nats-server.',
      'Before measuring, receipt learns every wamid the phases use from MessageStatusChanged SENT events on waygate.eu.events.delivery (as delivery-retry publishes them), so statuses resolve to messages instead of being held; the seeding rate is reported under preparation.',
      `Bodies are built like the simulator's (Meta's envelope, one entry and change for the business number, pricing on delivered) and signed with the tenant's app secret (X-Hub-Signature-256); POSTed over ${HTTP_CONNECTIONS} keep-alive connections. Each wamid gets delivered, then read, so statuses follow the lifecycle.`,
      'Open loop on POSTs (statuses/s divided by statuses per POST). HTTP latency = scheduled POST time -> response; processing latency = scheduled POST time -> the MessageStatusChanged for that status on waygate.eu.events.receipt (an ordered JetStream consumer in this process).',
      'Throughput = statuses processed per second from the first scheduled POST to the last status event.',
    ],
    setup: {
      services: 'receipt (child process)',
      storage: 'sqlite',
      httpConnections: HTTP_CONNECTIONS,
      statusesPerPost: profile.webhookBatchSizes.join(' and '),
      knownWamids: 'seeded before measuring (statuses are not held)',
      serviceEnv: Object.entries(options.serviceEnv)
        .map(([key, value]) => `${key}=${value}`)
        .join(' '),
    },
    preparation,
    phases,
    elapsedMs: Math.round(performance.now() - started),
    ...extra,
  });

  const dir = createTempDir('waygate-bench-webhooks-');
  const removeDir = withCleanup(() => dir.remove());
  const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_CONNECTIONS });
  let stopNats: (() => Promise<void>) | undefined;
  let connection: JetStreamConnection | undefined;
  let receipt: ServiceProcess | undefined;
  try {
    const tenantsFile = path.join(dir.path, 'tenants.yaml');
    writeFileSync(tenantsFile, benchTenantsYaml(), { mode: 0o600 });
    const nats = await startNatsServer();
    stopNats = withCleanup(() => nats.stop());
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    log('Webhook ingest: starting receipt ...');
    receipt = await startService('receipt', {
      env: {
        ...serviceBaseEnv({ natsUrl: nats.url, tenantsFile, dataDir: dir.path }),
        WAYGATE_HTTP_HOST: '127.0.0.1',
        WAYGATE_HTTP_PORT: String(httpPort),
        ...options.serviceEnv,
      },
      logDir: dir.path,
      grpcPort,
    });

    connection = await connectJetStream(nats.url, 'bench-webhook-observer');
    await ensureRegionStreams(connection.jsm, BENCH_REGION);
    const openEvent = await benchEventOpener(connection.js, dir.path);
    let current: CompletionTracker | undefined;
    const observer = await connection.js.consumers.get(regionStreams(BENCH_REGION).events.name, {
      // One subject as a string: nats-server 2.9 has no multi-subject filters, and the consumer would never start.
      filterSubjects: regionSubjects(BENCH_REGION).receiptEvents,
      deliver_policy: DeliverPolicy.New,
    });
    const events = await observer.consume({ max_messages: 1000 });
    const observing = (async () => {
      for await (const message of events) {
        try {
          const event = MessageStatusChanged.decode(await openEvent(message.data));
          current?.complete(statusKey(event.waMessageId, event.status));
        } catch {
          current?.count('undecodable receipt events');
        }
      }
    })();

    if (profile.webhookBatchSizes.length > 2) throw new Error('at most two batch sizes: each wamid can only be delivered, then read');
    const plans: WebhookPhasePlan[] = [];
    for (const ratePerSec of profile.webhookRates) {
      for (const [index, batchSize] of profile.webhookBatchSizes.entries()) {
        plans.push({
          ratePerSec,
          batchSize,
          // Every batch size of a rate reuses the rate's wamids, one lifecycle step later.
          status: index % 2 === 0 ? 'delivered' : 'read',
          spec: {
            id: `rate-${ratePerSec}-batch-${batchSize}`,
            label: `${ratePerSec}/s, ${batchSize} per POST`,
            load: { kind: 'open-loop', ratePerSec: ratePerSec / batchSize, maxOutstanding: MAX_OUTSTANDING_SENDS },
            itemsPerSend: batchSize,
            durationMs: profile.webhookPhaseMs,
            drainTimeoutMs: profile.drainTimeoutMs,
          },
        });
      }
    }
    const statusesOf = (plan: { ratePerSec: number; batchSize: number; spec: PhaseSpec }) =>
      openLoopSendCount(plan.ratePerSec / plan.batchSize, plan.spec.durationMs) * plan.batchSize;
    let sequence = 0;
    const pools = new Map<number, KnownMessage[]>();
    const poolSize = (rate: number) => Math.max(...plans.filter((plan) => plan.ratePerSec === rate).map(statusesOf));
    const warmupPlan = {
      ratePerSec: profile.warmupRatePerSec,
      batchSize: 1,
      status: 'delivered' as const,
      spec: {
        id: 'warmup',
        label: 'warmup',
        load: { kind: 'open-loop', ratePerSec: profile.warmupRatePerSec, maxOutstanding: MAX_OUTSTANDING_SENDS },
        durationMs: profile.warmupMs,
        drainTimeoutMs: profile.drainTimeoutMs,
      } satisfies PhaseSpec,
    };
    const warmupPool = Array.from({ length: statusesOf(warmupPlan) }, () => knownMessage(sequence++));
    for (const rate of new Set(plans.map((plan) => plan.ratePerSec))) {
      pools.set(
        rate,
        Array.from({ length: poolSize(rate) }, () => knownMessage(sequence++)),
      );
    }
    const seeds = [...warmupPool, ...[...pools.values()].flat()];
    log(`Webhook ingest: receipt learns ${seeds.length} wamids ...`);
    const seedStarted = performance.now();
    await seedKnownMessages(connection, seeds);
    const seedMs = performance.now() - seedStarted;
    preparation.seededWamids = seeds.length;
    preparation.seedMs = Math.round(seedMs);
    preparation.seedRatePerSec = round((seeds.length * 1000) / seedMs, 1);
    log(`  ${seeds.length} SENT events processed by receipt in ${(seedMs / 1000).toFixed(1)} s (${preparation.seedRatePerSec}/s)`);

    const senderFor = (posts: readonly PreparedPost[]): Sender => {
      return async (index, scheduledAt, { follow, tracker }) => {
        const post = posts[index];
        if (!post) throw new Error(`benchmark bug: no prepared POST ${index}`);
        post.keys.forEach(follow);
        try {
          const status = await postWebhook(agent, httpPort, post);
          if (status === 200) tracker.answered(scheduledAt);
          else post.keys.forEach((key) => tracker.fail(key, `HTTP ${status}`));
        } catch (error) {
          post.keys.forEach((key) => tracker.fail(key, `POST: ${(error as Error).message}`));
        }
      };
    };
    const prepare = (plan: WebhookPhasePlan, pool: readonly KnownMessage[]) => {
      const total = statusesOf(plan);
      const posts: PreparedPost[] = [];
      for (let start = 0; start < total; start += plan.batchSize)
        posts.push(preparePost(pool.slice(start, start + plan.batchSize), plan.status));
      return posts;
    };
    const observe = (tracker: CompletionTracker | undefined) => {
      current = tracker;
    };
    const receiptPid = receipt.pid;
    const cpuMeter = new CpuMeter([{ name: 'receipt', pid: () => receiptPid }, { name: 'nats-server', pid: () => nats.pid }, SELF]);

    log(`Webhook ingest: warmup ${profile.warmupMs} ms at ${profile.warmupRatePerSec} statuses/s, 1 per POST`);
    const warmup = await runPhase(warmupPlan.spec, senderFor(prepare(warmupPlan, warmupPool)), observe);
    for (const plan of plans) {
      const phase = await runPhase(plan.spec, senderFor(prepare(plan, pools.get(plan.ratePerSec) ?? [])), observe, cpuMeter);
      phases.push(phase);
      log(`${describePhase(phase)}; HTTP p50 ${phase.requestLatencyMs.p50} ms, p99 ${phase.requestLatencyMs.p99} ms`);
    }
    events.stop();
    await observing;
    return result({ warmup: warmupOf(warmup, profile.warmupRatePerSec) });
  } catch (error) {
    return result({ error: `${(error as Error).message}${receipt ? `\n--- receipt (last lines)\n${receipt.logTail(10)}` : ''}` });
  } finally {
    agent.destroy();
    await connection?.nc.close();
    await receipt?.stop();
    await stopNats?.();
    await removeDir();
  }
}
