import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { MessagingServiceClient, type SendMessageRequest } from '@waygate/proto';
import { createTempDir, freePort, startNatsServer } from '@waygate/testing';
import { startSimulator, type SimulatorEvent } from '@waygate/whatsapp-simulator';
import type { BenchProfile } from '../bench-options';
import { withCleanup } from '../cleanup';
import { describePhase, warmupOf, type BenchmarkResult, type ProgressLog } from '../benchmark-result';
import type { CompletionTracker } from '../completion-tracker';
import { MAX_OUTSTANDING_SENDS, runPhase, standardPhases, type PhaseResult, type Sender } from '../phase';
import { startService, type ServiceProcess } from '../service-process';
import { BENCH_TENANT, benchTenantsYaml, recipientFor, serviceBaseEnv } from './bench-tenant';

const SEND_DEADLINE_MS = 30_000;

/**
 * The platform's send path: gRPC SendMessage at ingress -> SQLite -> JetStream -> delivery-retry -> SQLite -> the
 * Cloud API request arriving at the WhatsApp simulator. Ingress and delivery-retry run as child processes on SQLite
 * in a temp folder; the simulator runs in this process so its events carry this process's clock.
 */
export async function runDeliveryPath(
  profile: BenchProfile,
  options: { serviceEnv: Readonly<Record<string, string>> },
  log: ProgressLog,
): Promise<BenchmarkResult> {
  const started = performance.now();
  const phases: PhaseResult[] = [];
  const result = (extra: Partial<BenchmarkResult>): BenchmarkResult => ({
    name: 'delivery',
    title: 'Delivery: SendMessage -> ingress -> delivery-retry -> Cloud API (simulator)',
    method: [
      'ingress and delivery-retry as child processes (node --import tsx apps/<name>/src/main.ts, as npm start runs them) on SQLite in a temp folder, log level info to files; one nats-server; the WhatsApp simulator in this process (throughput 1000/s, pair rate limit off, customer service window not enforced, no webhook URL).',
      'Item = one text message sent with gRPC SendMessage (one channel, bearer API key) to its own recipient; end = the simulator receiving the Cloud API request for that recipient (its message_accepted event).',
      'Open loop: sends start on a fixed timetable whether or not earlier ones returned; latency counts from the scheduled time. Closed loop: a new send starts when an earlier message reached the simulator.',
      'Throughput = messages at the simulator per second from the first scheduled send to the last arrival (the upstream send rate sustained).',
    ],
    setup: {
      services: 'ingress, delivery-retry (child processes)',
      storage: 'sqlite',
      simulatorThroughputMps: BENCH_TENANT.throughputMps,
      recipients: 'one per message',
      serviceEnv: Object.entries(options.serviceEnv)
        .map(([key, value]) => `${key}=${value}`)
        .join(' '),
    },
    phases,
    elapsedMs: Math.round(performance.now() - started),
    ...extra,
  });

  const dir = createTempDir('waygate-bench-delivery-');
  const removeDir = withCleanup(() => dir.remove());
  let stopNats: (() => Promise<void>) | undefined;
  let stopSimulator: (() => Promise<void>) | undefined;
  let client: MessagingServiceClient | undefined;
  const services: ServiceProcess[] = [];
  let current: CompletionTracker | undefined;
  try {
    const tenantsFile = path.join(dir.path, 'tenants.yaml');
    writeFileSync(tenantsFile, benchTenantsYaml(), { mode: 0o600 });
    const nats = await startNatsServer();
    stopNats = withCleanup(() => nats.stop());
    const simulator = await startSimulator({
      appSecret: BENCH_TENANT.appSecret,
      phoneNumbers: [
        {
          id: BENCH_TENANT.phoneNumberId,
          displayPhoneNumber: BENCH_TENANT.displayPhoneNumber,
          accessToken: BENCH_TENANT.accessToken,
          wabaId: BENCH_TENANT.wabaId,
          throughputMps: BENCH_TENANT.throughputMps,
        },
      ],
      pairRateLimit: false,
      enforceCustomerServiceWindow: false,
      onEvent: (event: SimulatorEvent) => {
        if (event.type === 'message_accepted') current?.complete(event.waId);
        else if (event.type === 'send_rejected') current?.count(`simulator rejected ${event.httpStatus}/${event.code}`);
      },
    });
    stopSimulator = withCleanup(() => simulator.stop());
    const env = {
      ...serviceBaseEnv({ natsUrl: nats.url, tenantsFile, dataDir: dir.path }),
      WAYGATE_WHATSAPP_API_BASE_URL: simulator.url,
      ...options.serviceEnv,
    };
    log('Delivery: starting ingress and delivery-retry ...');
    const [ingressPort, deliveryPort] = [await freePort(), await freePort()];
    services.push(
      ...(await Promise.all([
        startService('ingress', { env, logDir: dir.path, grpcPort: ingressPort }),
        startService('delivery-retry', { env, logDir: dir.path, grpcPort: deliveryPort }),
      ])),
    );
    const grpcClient = new MessagingServiceClient(`127.0.0.1:${ingressPort}`, credentials.createInsecure());
    client = grpcClient;

    let sequence = 0;
    const send: Sender = (_index, scheduledAt, { follow, tracker }) => {
      const { to, waId } = recipientFor(sequence++);
      follow(waId);
      const request: SendMessageRequest = {
        to,
        content: { $case: 'text', value: { body: `Benchmark message ${sequence}`, previewUrl: false } },
        idempotencyKey: `bench-${sequence}`,
        validity: undefined,
        replyTo: '',
        phoneNumberId: '',
      };
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${BENCH_TENANT.apiKey}`);
      return new Promise<void>((resolve) => {
        grpcClient.sendMessage(request, metadata, { deadline: Date.now() + SEND_DEADLINE_MS }, (error: ServiceError | null) => {
          if (error) tracker.fail(waId, `SendMessage: ${error.code} ${error.details}`);
          else tracker.answered(scheduledAt);
          resolve();
        });
      });
    };
    const observe = (tracker: CompletionTracker | undefined) => {
      current = tracker;
    };

    log(`Delivery: warmup ${profile.warmupMs} ms at ${profile.warmupRatePerSec}/s`);
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
    for (const spec of standardPhases({
      rates: profile.rates,
      durationMs: profile.phaseMs,
      drainTimeoutMs: profile.drainTimeoutMs,
      closedLoopConcurrency: profile.closedLoopConcurrency,
    })) {
      const phase = await runPhase(spec, send, observe);
      phases.push(phase);
      log(describePhase(phase));
    }
    return result({ warmup: warmupOf(warmup, profile.warmupRatePerSec) });
  } catch (error) {
    const logs = services.map((service) => `--- ${service.name} (last lines)\n${service.logTail(10)}`).join('\n');
    return result({ error: `${(error as Error).message}${logs ? `\n${logs}` : ''}` });
  } finally {
    client?.close();
    await Promise.all(services.map((service) => service.stop()));
    await stopSimulator?.();
    await stopNats?.();
    await removeDir();
  }
}
