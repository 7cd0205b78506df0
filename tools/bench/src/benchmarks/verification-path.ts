import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { StartVerificationRequest, VerificationServiceClient } from '@waygate/proto';
import { createTempDir, freePort, startNatsServer, tenantsYaml, waitFor } from '@waygate/testing';
import { seedTemplates } from '@waygate/whatsapp-simulator';
import type { BenchProfile } from '../bench-options';
import { withCleanup } from '../cleanup';
import { describePhase, warmupOf, type BenchmarkResult, type ProgressLog } from '../benchmark-result';
import type { CompletionTracker } from '../completion-tracker';
import { MAX_OUTSTANDING_SENDS, runPhase, type PhaseResult, type Sender } from '../phase';
import { startSimulatorProcess } from '../simulator-process';
import { startService, type ServiceProcess } from '../service-process';
import { BENCH_REGION, BENCH_TENANT, recipientFor, serviceBaseEnv, BENCH_SIMULATOR_NUMBER } from './bench-tenant';

const SEND_DEADLINE_MS = 30_000;
/** The rate issue 17 asks about: one-time codes at 100 per second. */
export const VERIFICATION_RATE_PER_SEC = 100;
/** Outside the recipients: the probe that shows the template catalog is synced. */
const PROBE_RECIPIENT = '+4916000000001';

/** The bench tenant with verification settings: the simulator's copy-code template, and limits the run never reaches. */
function verificationTenantsYaml(): string {
  const t = BENCH_TENANT;
  return tenantsYaml([
    {
      id: t.id,
      homeRegion: BENCH_REGION,
      apiKey: t.apiKey,
      wabaId: t.wabaId,
      appSecret: t.appSecret,
      verifyToken: t.verifyToken,
      phoneNumberIds: [t.phoneNumberId],
      accessToken: t.accessToken,
      throughputMps: t.throughputMps,
      verification: { defaultTemplate: { name: 'login_code', language: 'en_US' }, sendsPerTenantPerHour: 10_000_000 },
    },
  ]);
}

/**
 * One-time codes: gRPC StartVerification at ingress (template lookup, code, keyed hash, verification row, the send
 * path with the code sealed) -> JetStream -> delivery-retry (opens the code) -> the Cloud API request for the
 * authentication template arriving at the WhatsApp simulator. Same processes and method as the delivery benchmark.
 */
export async function runVerificationPath(
  profile: BenchProfile,
  options: { serviceEnv: Readonly<Record<string, string>> },
  log: ProgressLog,
): Promise<BenchmarkResult> {
  const started = performance.now();
  const phases: PhaseResult[] = [];
  const result = (extra: Partial<BenchmarkResult>): BenchmarkResult => ({
    name: 'verification',
    title: 'Verification: StartVerification -> ingress -> delivery-retry -> Cloud API (simulator)',
    method: [
      'ingress and delivery-retry as child processes on SQLite in a temp folder, log level info to files; one nats-server; the WhatsApp simulator in a child process of its own (its seeded templates, throughput 1000/s, pair rate limit off).',
      "Item = one gRPC StartVerification (the tenant's default copy-code template login_code, a 6-digit code) to its own recipient; end = the simulator receiving the Cloud API request with the code (its message_accepted event).",
      'Open loop at 100/s: calls start on a fixed timetable; latency counts from the scheduled time.',
    ],
    setup: {
      services: 'ingress, delivery-retry (child processes)',
      storage: 'sqlite',
      template: 'login_code (AUTHENTICATION, copy code)',
      recipients: 'one per verification',
      serviceEnv: Object.entries(options.serviceEnv)
        .map(([key, value]) => `${key}=${value}`)
        .join(' '),
    },
    phases,
    elapsedMs: Math.round(performance.now() - started),
    ...extra,
  });

  const dir = createTempDir('waygate-bench-verification-');
  const removeDir = withCleanup(() => dir.remove());
  let stopNats: (() => Promise<void>) | undefined;
  let stopSimulator: (() => Promise<void>) | undefined;
  let client: VerificationServiceClient | undefined;
  let probeArrived = false;
  const services: ServiceProcess[] = [];
  let current: CompletionTracker | undefined;
  try {
    const tenantsFile = path.join(dir.path, 'tenants.yaml');
    writeFileSync(tenantsFile, verificationTenantsYaml(), { mode: 0o600 });
    const nats = await startNatsServer();
    stopNats = withCleanup(() => nats.stop());
    const simulator = await startSimulatorProcess(
      {
        options: {
          appSecret: BENCH_TENANT.appSecret,
          phoneNumbers: [BENCH_SIMULATOR_NUMBER],
          templates: seedTemplates(BENCH_TENANT.wabaId),
          pairRateLimit: false,
        },
        forward: ['message_accepted', 'send_rejected'],
      },
      (event, at) => {
        if (event.type === 'message_accepted' && event.waId === PROBE_RECIPIENT.slice(1)) probeArrived = true;
        else if (event.type === 'message_accepted') current?.complete(event.waId, at);
        else if (event.type === 'send_rejected') current?.count(`simulator rejected ${event.httpStatus}/${event.code}`);
      },
    );
    stopSimulator = simulator.stop;
    const env = {
      ...serviceBaseEnv({ natsUrl: nats.url, tenantsFile, dataDir: dir.path }),
      WAYGATE_WHATSAPP_API_BASE_URL: simulator.url,
      ...options.serviceEnv,
    };
    log('Verification: starting ingress and delivery-retry ...');
    const [ingressPort, deliveryPort] = [await freePort(), await freePort()];
    services.push(
      ...(await Promise.all([
        startService('ingress', { env, logDir: dir.path, grpcPort: ingressPort }),
        startService('delivery-retry', { env, logDir: dir.path, grpcPort: deliveryPort }),
      ])),
    );
    const grpcClient = new VerificationServiceClient(`127.0.0.1:${ingressPort}`, credentials.createInsecure());
    client = grpcClient;
    // One Metadata for every call: grpc-js copies it per call, so building and validating it each time is waste.
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${BENCH_TENANT.apiKey}`);
    const metadataOf = () => metadata;
    // The catalog is read from the simulator at start; StartVerification is UNAVAILABLE until then.
    await waitFor(
      () =>
        new Promise<boolean>((resolve) =>
          grpcClient.startVerification(
            StartVerificationRequest.fromPartial({ to: PROBE_RECIPIENT }),
            metadataOf(),
            (error: ServiceError | null) => resolve(error === null),
          ),
        ),
      { timeoutMs: 60_000, intervalMs: 200, what: 'the template catalog in ingress' },
    );
    await waitFor(() => probeArrived, { timeoutMs: 30_000, what: 'the probe code at the simulator' });

    let sequence = 0;
    const send: Sender = (_index, scheduledAt, { follow, tracker }) => {
      const { to, waId } = recipientFor(sequence++);
      follow(waId);
      const deadline = Date.now() + SEND_DEADLINE_MS;
      return new Promise<void>((resolve) => {
        const attempt = () =>
          grpcClient.startVerification(
            StartVerificationRequest.fromPartial({ to }),
            metadataOf(),
            { deadline },
            (error: ServiceError | null) => {
              if (error?.code === grpcStatus.UNAVAILABLE && Date.now() < deadline) return void setTimeout(attempt, 20);
              if (error) tracker.fail(waId, `StartVerification: ${error.code} ${error.details}`);
              else tracker.answered(scheduledAt);
              resolve();
            },
          );
        attempt();
      });
    };
    const observe = (tracker: CompletionTracker | undefined) => {
      current = tracker;
    };
    log(`Verification: warmup ${profile.warmupMs} ms at ${profile.warmupRatePerSec}/s`);
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
    const phase = await runPhase(
      {
        id: `rate-${VERIFICATION_RATE_PER_SEC}`,
        label: `${VERIFICATION_RATE_PER_SEC}/s`,
        load: { kind: 'open-loop', ratePerSec: VERIFICATION_RATE_PER_SEC, maxOutstanding: MAX_OUTSTANDING_SENDS },
        durationMs: profile.phaseMs,
        drainTimeoutMs: profile.drainTimeoutMs,
      },
      send,
      observe,
    );
    phases.push(phase);
    log(describePhase(phase));
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
