import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { DeliverPolicy } from 'nats';
import { connectJetStream, ensureRegionStreams, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import {
  MessageStatus,
  MessageStatusChanged,
  MessagingServiceClient,
  type SendMessageRequest,
  type SendMessageResponse,
} from '@waygate/proto';
import { createTempDir, freePort, startNatsServer } from '@waygate/testing';
import type { BenchProfile } from '../bench-options';
import { describePhase, warmupOf, type BenchmarkResult, type ProgressLog, type SoakFigures } from '../benchmark-result';
import { withCleanup } from '../cleanup';
import type { CompletionTracker } from '../completion-tracker';
import { MAX_OUTSTANDING_SENDS, runPhase, standardPhases, type PhaseResult, type PhaseSpec, type Sender } from '../phase';
import { CpuMeter, SELF, type MeasuredProcess } from '../process-stats';
import { startService, type ServiceProcess } from '../service-process';
import { startSimulatorProcess } from '../simulator-process';
import { SoakSampler } from '../soak-sampler';
import {
  BENCH_REGION,
  BENCH_TENANT,
  benchEventOpener,
  benchTenantsYaml,
  recipientFor,
  serviceBaseEnv,
  BENCH_SIMULATOR_NUMBER,
} from './bench-tenant';
import { prepareCustomerWindows, PROBE_RECIPIENT, SEND_DEADLINE_MS } from './delivery-path';

/** The five services as `npm start` runs them. */
const SERVICES = ['ingress', 'delivery-retry', 'receipt', 'archive', 'media-store'] as const;
/** The simulator's delay between sent -> delivered -> read: small, so the loop measures the platform, not a customer. */
export const FULL_LOOP_STATUS_DELAY_MS = 20;

/** The soak: 300 msg/s through the full loop for `durationMs`, RSS and event-loop lag of every service sampled. */
export interface SoakOptions {
  readonly durationMs: number;
  readonly ratePerSec: number;
  /** Part of the soak left out of the RSS growth (caches, JIT, SQLite page cache filling up). */
  readonly warmupMs: number;
  readonly sampleEveryMs: number;
}

/** The issue's bound on RSS growth after warmup during the soak. */
export const SOAK_RSS_GROWTH_BOUND_PCT = 15;

/** The soak's rate unless `--soak-rate` says otherwise: issue 15's 300 msg/s. */
export const DEFAULT_SOAK_RATE_PER_SEC = 300;

/** The soak's defaults for a duration: 300/s, a fifth of it (at least 10 s) as warmup, a sample every 5 s (2 s below 2 min). */
export function soakOptions(durationMs: number, ratePerSec = DEFAULT_SOAK_RATE_PER_SEC): SoakOptions {
  return {
    durationMs,
    ratePerSec,
    warmupMs: Math.max(10_000, Math.round(durationMs / 5)),
    sampleEveryMs: durationMs < 120_000 ? 2000 : 5000,
  };
}

/**
 * The whole loop: gRPC SendMessage at ingress -> delivery-retry -> Cloud API request at the simulator, which then
 * POSTs signed sent, delivered and read webhooks to receipt -> MessageStatusChanged READ on
 * `waygate.<region>.events.receipt` (observed here); the archive and receipt's tenant feed consume every event as in
 * production, and media-store runs as `npm start` runs it. With `soak`, one long phase at a fixed rate with RSS and
 * event-loop lag of every service sampled instead of the rate phases.
 */
export async function runFullLoop(
  profile: BenchProfile,
  options: { serviceEnv: Readonly<Record<string, string>>; soak?: SoakOptions },
  log: ProgressLog,
): Promise<BenchmarkResult> {
  const started = performance.now();
  const phases: PhaseResult[] = [];
  const soak = options.soak;
  const name = soak ? 'soak' : 'full-loop';
  const title = soak
    ? `Soak: ${soak.ratePerSec} msg/s through the full loop for ${Math.round(soak.durationMs / 1000)} s`
    : 'Full loop: SendMessage -> ingress -> delivery-retry -> Cloud API (simulator) -> status webhooks -> receipt -> READ';
  const result = (extra: Partial<BenchmarkResult>): BenchmarkResult => ({
    name,
    title,
    method: [
      `ingress, delivery-retry, receipt (with its tenant feed), archive and media-store as child processes (as npm start runs them) on SQLite in a temp folder, log level info to files; one nats-server; the WhatsApp simulator in a child process of its own (throughput 1000/s, pair rate limit off, status delays ${FULL_LOOP_STATUS_DELAY_MS} ms, webhooks of up to 25 statuses POSTed to receipt).`,
      "Item = one text message sent with gRPC SendMessage to its own recipient (who wrote first, as in the delivery benchmark); end = receipt's MessageStatusChanged READ for it on waygate.eu.events.receipt (an ordered JetStream consumer in this process). A FAILED status fails the item; an item with neither in the drain timeout is missing ('not done').",
      'Latency counts from the scheduled send and includes the simulated customer (2 x the status delay) and the webhook batching.',
      'CPU ms per message: CPU time of each service, nats-server, the simulator and this process (the load generator and the READ observer) from the first send to the end of the drain, divided by the messages that reached READ.',
      ...(soak
        ? [
            `Soak: every ${soak.sampleEveryMs / 1000} s the RSS (/proc/<pid>/status VmRSS) and the event-loop delay (the nodejs_eventloop_delay_p99 and _max gauges, seconds, on each service's /metrics, a window of up to 10 s) of every service. RSS growth = median of the last 3 samples against the median of the first 3 samples after the soak's warmup (${soak.warmupMs / 1000} s); bound ${SOAK_RSS_GROWTH_BOUND_PCT} %.`,
          ]
        : []),
    ],
    setup: {
      services: `${SERVICES.join(', ')} (child processes)`,
      storage: 'sqlite',
      simulatorThroughputMps: BENCH_TENANT.throughputMps,
      statusDelayMs: FULL_LOOP_STATUS_DELAY_MS,
      recipients: 'one per message',
      serviceEnv: Object.entries(options.serviceEnv)
        .map(([key, value]) => `${key}=${value}`)
        .join(' '),
    },
    phases,
    elapsedMs: Math.round(performance.now() - started),
    ...extra,
  });

  const dir = createTempDir(`waygate-bench-${name}-`);
  const removeDir = withCleanup(() => dir.remove());
  let stopNats: (() => Promise<void>) | undefined;
  let stopSimulator: (() => Promise<void>) | undefined;
  let client: MessagingServiceClient | undefined;
  let customers: JetStreamConnection | undefined;
  let observerConnection: JetStreamConnection | undefined;
  let sampler: SoakSampler | undefined;
  let stopObserving: (() => Promise<void>) | undefined;
  let probeArrived = false;
  const services: ServiceProcess[] = [];
  let current: CompletionTracker | undefined;
  try {
    const tenantsFile = path.join(dir.path, 'tenants.yaml');
    writeFileSync(tenantsFile, benchTenantsYaml(), { mode: 0o600 });
    const nats = await startNatsServer();
    stopNats = withCleanup(() => nats.stop());
    const ports = Object.fromEntries(
      await Promise.all(SERVICES.map(async (service) => [service, { grpc: await freePort(), metrics: await freePort() }] as const)),
    ) as Record<(typeof SERVICES)[number], { grpc: number; metrics: number }>;
    const [webhookPort, mediaHttpPort] = [await freePort(), await freePort()];
    const simulator = await startSimulatorProcess(
      {
        options: {
          appSecret: BENCH_TENANT.appSecret,
          phoneNumbers: [BENCH_SIMULATOR_NUMBER],
          webhookUrl: `http://127.0.0.1:${webhookPort}/webhooks/whatsapp`,
          statusDelayMs: FULL_LOOP_STATUS_DELAY_MS,
          pairRateLimit: false,
          enforceCustomerServiceWindow: false,
        },
        forward: ['message_accepted', 'send_rejected', 'webhook_attempt'],
      },
      (event) => {
        if (event.type === 'message_accepted' && event.waId === PROBE_RECIPIENT.slice(1)) probeArrived = true;
        else if (event.type === 'send_rejected') current?.count(`simulator rejected ${event.httpStatus}/${event.code}`);
        else if (event.type === 'webhook_attempt' && (event.error !== undefined || (event.responseStatus ?? 200) >= 300))
          current?.count('webhook POSTs to receipt not accepted (the simulator retries them)');
      },
    );
    stopSimulator = simulator.stop;
    const env = {
      ...serviceBaseEnv({ natsUrl: nats.url, tenantsFile, dataDir: dir.path }),
      WAYGATE_WHATSAPP_API_BASE_URL: simulator.url,
      WAYGATE_HTTP_HOST: '127.0.0.1',
      WAYGATE_HTTP_PORT: String(webhookPort),
      WAYGATE_MEDIA_HTTP_HOST: '127.0.0.1',
      WAYGATE_MEDIA_HTTP_PORT: String(mediaHttpPort),
      WAYGATE_DELIVERY_ADDRESS: `127.0.0.1:${ports['delivery-retry'].grpc}`,
      WAYGATE_MEDIA_STORE_ADDRESS: `127.0.0.1:${ports['media-store'].grpc}`,
      ...options.serviceEnv,
    };
    log(`${soak ? 'Soak' : 'Full loop'}: starting ${SERVICES.join(', ')} ...`);
    services.push(
      ...(await Promise.all(
        SERVICES.map((service) =>
          startService(service, {
            env: { ...env, WAYGATE_METRICS_PORT: String(ports[service].metrics) },
            logDir: dir.path,
            grpcPort: ports[service].grpc,
          }),
        ),
      )),
    );
    const processes: MeasuredProcess[] = [
      ...services.map((service) => ({ name: service.name, pid: () => service.pid })),
      { name: 'nats-server', pid: () => nats.pid },
      { name: 'simulator', pid: () => simulator.pid },
      SELF,
    ];
    const cpuMeter = new CpuMeter(processes);

    // Receipt's READ events, matched to the send by Waygate's message id (known from SendMessage's answer).
    observerConnection = await connectJetStream(nats.url, 'bench-full-loop-observer');
    await ensureRegionStreams(observerConnection.jsm, BENCH_REGION);
    const openEvent = await benchEventOpener(observerConnection.js, dir.path);
    const waIdOfMessage = new Map<string, string>();
    /** Ends seen before SendMessage's answer arrived (possible in principle): message id -> when, or the failure. */
    const early = new Map<string, { at: number; failure?: string }>();
    const settle = (waId: string, end: { at: number; failure?: string }) => {
      if (end.failure) current?.fail(waId, end.failure);
      else current?.complete(waId, end.at);
    };
    const observer = await observerConnection.js.consumers.get(regionStreams(BENCH_REGION).events.name, {
      filterSubjects: regionSubjects(BENCH_REGION).receiptEvents,
      deliver_policy: DeliverPolicy.New,
    });
    const events = await observer.consume({ max_messages: 1000 });
    const observing = (async () => {
      for await (const message of events) {
        let event: MessageStatusChanged;
        try {
          event = MessageStatusChanged.decode(await openEvent(message.data));
        } catch {
          current?.count('undecodable receipt events');
          continue;
        }
        const end =
          event.status === MessageStatus.MESSAGE_STATUS_READ
            ? { at: performance.now() }
            : event.status === MessageStatus.MESSAGE_STATUS_FAILED
              ? { at: performance.now(), failure: `FAILED status ${event.errorCode} ${event.errorTitle}` }
              : undefined;
        if (!end) continue;
        const waId = waIdOfMessage.get(event.messageId);
        if (waId) {
          waIdOfMessage.delete(event.messageId);
          settle(waId, end);
        } else early.set(event.messageId, end);
      }
    })();
    stopObserving = async () => {
      await events.close();
      await observing;
    };

    const grpcClient = new MessagingServiceClient(`127.0.0.1:${ports.ingress.grpc}`, credentials.createInsecure());
    client = grpcClient;
    // One Metadata for every call: grpc-js copies it per call, so building and validating it each time is waste.
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${BENCH_TENANT.apiKey}`);
    const metadataOf = () => metadata;
    customers = await connectJetStream(nats.url, 'bench-customers');
    const keepWindowsAhead = await prepareCustomerWindows({
      customers,
      client: grpcClient,
      metadataOf,
      probeArrived: () => probeArrived,
      log,
      label: soak ? 'Soak' : 'Full loop',
    });

    let sequence = 0;
    const send: Sender = (_index, scheduledAt, { follow, tracker }) => {
      const index = sequence++;
      keepWindowsAhead(index);
      const { to, waId } = recipientFor(index);
      follow(waId);
      const request: SendMessageRequest = {
        to,
        content: { $case: 'text', value: { body: `Benchmark message ${index}`, previewUrl: false } },
        idempotencyKey: `bench-${index}`,
        validity: undefined,
        replyTo: '',
        phoneNumberId: '',
      };
      const deadline = Date.now() + SEND_DEADLINE_MS;
      return new Promise<void>((resolve) => {
        const attempt = () =>
          grpcClient.sendMessage(request, metadataOf(), { deadline }, (error: ServiceError | null, response?: SendMessageResponse) => {
            if (error?.code === grpcStatus.FAILED_PRECONDITION && Date.now() < deadline) return void setTimeout(attempt, 20);
            if (error || !response) tracker.fail(waId, `SendMessage: ${error?.code} ${error?.details}`);
            else {
              tracker.answered(scheduledAt);
              const end = early.get(response.messageId);
              if (end) {
                early.delete(response.messageId);
                settle(waId, end);
              } else waIdOfMessage.set(response.messageId, waId);
            }
            resolve();
          });
        attempt();
      });
    };
    const observe = (tracker: CompletionTracker | undefined) => {
      current = tracker;
      // Ends of an earlier phase's stragglers would otherwise wait forever in the maps.
      if (!tracker) {
        waIdOfMessage.clear();
        early.clear();
      }
    };

    log(`${soak ? 'Soak' : 'Full loop'}: warmup ${profile.warmupMs} ms at ${profile.warmupRatePerSec}/s`);
    const warmup = await runPhase(
      {
        id: 'warmup',
        label: 'warmup',
        load: { kind: 'open-loop', ratePerSec: profile.warmupRatePerSec, maxOutstanding: MAX_OUTSTANDING_SENDS },
        durationMs: profile.warmupMs,
        drainTimeoutMs: profile.drainTimeoutMs,
      },
      send,
      observe,
    );
    let soakFigures: SoakFigures | undefined;
    if (soak) {
      const spec: PhaseSpec = {
        id: `soak-${soak.ratePerSec}`,
        label: `${soak.ratePerSec}/s for ${Math.round(soak.durationMs / 1000)} s`,
        load: { kind: 'open-loop', ratePerSec: soak.ratePerSec, maxOutstanding: MAX_OUTSTANDING_SENDS },
        durationMs: soak.durationMs,
        drainTimeoutMs: profile.drainTimeoutMs,
      };
      sampler = new SoakSampler(
        processes,
        Object.fromEntries(SERVICES.map((service) => [service, `http://127.0.0.1:${ports[service].metrics}/metrics`])),
        soak.sampleEveryMs,
        (line) => log(line),
      );
      sampler.start();
      const phase = await runPhase(spec, send, observe, cpuMeter);
      await sampler.stop();
      phases.push(phase);
      log(describePhase(phase));
      soakFigures = sampler.figures({
        durationMs: soak.durationMs,
        ratePerSec: soak.ratePerSec,
        warmupMs: soak.warmupMs,
        rssGrowthBoundPct: SOAK_RSS_GROWTH_BOUND_PCT,
        lost: phase.items.notCompletedWithinDrain + phase.items.failed,
      });
    } else {
      for (const spec of standardPhases({
        rates: profile.fullLoopRates,
        durationMs: profile.fullLoopPhaseMs,
        drainTimeoutMs: profile.drainTimeoutMs,
        closedLoopConcurrency: profile.closedLoopConcurrency,
      })) {
        const phase = await runPhase(spec, send, observe, cpuMeter);
        phases.push(phase);
        log(describePhase(phase));
      }
    }
    return result({ warmup: warmupOf(warmup, profile.warmupRatePerSec), ...(soakFigures ? { soak: soakFigures } : {}) });
  } catch (error) {
    const logs = services.map((service) => `--- ${service.name} (last lines)\n${service.logTail(10)}`).join('\n');
    return result({ error: `${(error as Error).message}${logs ? `\n${logs}` : ''}` });
  } finally {
    await sampler?.stop();
    await stopObserving?.();
    client?.close();
    await customers?.nc.close();
    await observerConnection?.nc.close();
    await Promise.all(services.map((service) => service.stop()));
    await stopSimulator?.();
    await stopNats?.();
    await removeDir();
  }
}
