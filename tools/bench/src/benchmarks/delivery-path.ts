import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { credentials, Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { connectJetStream, publishEvent, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { InboundMessageReceived, MessagingServiceClient, type SendMessageRequest } from '@waygate/proto';
import { createTempDir, freePort, startNatsServer, waitFor } from '@waygate/testing';
import type { BenchProfile } from '../bench-options';
import { withCleanup } from '../cleanup';
import { describePhase, warmupOf, type BenchmarkResult, type ProgressLog } from '../benchmark-result';
import type { CompletionTracker } from '../completion-tracker';
import { MAX_OUTSTANDING_SENDS, runPhase, standardPhases, type PhaseResult, type Sender } from '../phase';
import { CpuMeter, SELF } from '../process-stats';
import { startService, type ServiceProcess } from '../service-process';
import { startSimulatorProcess } from '../simulator-process';
import { BENCH_REGION, BENCH_TENANT, benchTenantsYaml, recipientFor, serviceBaseEnv, BENCH_SIMULATOR_NUMBER } from './bench-tenant';

export const SEND_DEADLINE_MS = 30_000;
/** How many customers' windows are opened ahead of the sends (ingress refuses free-form text to anyone else). */
export const WINDOWS_AHEAD = 3000;
const OPEN_BATCH = 100;
/** A customer outside the recipients, whose window shows when ingress has applied every window opened before it. */
export const PROBE_RECIPIENT = '+4916000000000';

/**
 * Opens customers' service windows ahead of the sends, as receipt would on their messages: InboundMessageReceived on
 * NATS for recipient 0, 1, 2, ... (WhatsApp allows free-form text only to a customer who wrote in the last 24 hours).
 */
export function createWindowOpener(nats: JetStreamConnection) {
  const subject = regionSubjects(BENCH_REGION).inboundEvents;
  let opened = 0;
  let opening: Promise<void> | undefined;
  const publishInbound = (to: string) => {
    const occurredAt = new Date();
    const waMessageId = `wamid.bench-in-${to.slice(1)}`;
    const event = InboundMessageReceived.fromPartial({
      eventId: `wa:in:${waMessageId}`,
      tenantId: BENCH_TENANT.id,
      phoneNumberId: BENCH_TENANT.phoneNumberId,
      from: to,
      waMessageId,
      occurredAt,
      type: 'text',
      serviceWindowClosesAt: new Date(occurredAt.getTime() + 24 * 3_600_000),
    });
    return publishEvent(nats.js, subject, InboundMessageReceived.encode(event).finish(), event.eventId);
  };
  return {
    publishInbound,
    /** Opens windows up to recipient `upTo` (exclusive); one run at a time, later calls join it. */
    openUpTo(upTo: number): Promise<void> {
      if (opening || opened >= upTo) return opening ?? Promise.resolve();
      opening = (async () => {
        while (opened < upTo) {
          const batch = Array.from({ length: Math.min(OPEN_BATCH, upTo - opened) }, (_, i) => recipientFor(opened + i).to);
          await Promise.all(batch.map(publishInbound));
          opened += batch.length;
        }
      })().finally(() => {
        opening = undefined;
      });
      return opening;
    },
  };
}

/**
 * Prepares the customers of a benchmark that sends free-form text: opens the first {@link WINDOWS_AHEAD} windows,
 * waits until ingress has applied them (a probe send to {@link PROBE_RECIPIENT}, opened last, succeeds: ingress
 * applies inbound events in order) and until the probe reached the simulator, before any phase, so that the probe is
 * nobody's item. Returns what each send calls first: it keeps the windows {@link WINDOWS_AHEAD} ahead of the sends.
 * A failure to open them is not fatal to the run (a send whose window never opened fails on its own, FAILED_PRECONDITION
 * until its deadline, counted by the tracker); it is logged once, so an overloaded nats-server is named as the cause.
 */
export async function prepareCustomerWindows(args: {
  readonly customers: JetStreamConnection;
  readonly client: MessagingServiceClient;
  readonly metadataOf: () => Metadata;
  readonly probeArrived: () => boolean;
  readonly log: ProgressLog;
  /** The benchmark's name in log lines. */
  readonly label: string;
}): Promise<(index: number) => void> {
  const { client, label, log } = args;
  const windows = createWindowOpener(args.customers);
  log(`${label}: the first ${WINDOWS_AHEAD} customers write first ...`);
  await windows.openUpTo(WINDOWS_AHEAD);
  await windows.publishInbound(PROBE_RECIPIENT);
  await waitFor(
    () =>
      new Promise<boolean>((resolve) =>
        client.sendMessage(
          {
            to: PROBE_RECIPIENT,
            content: { $case: 'text', value: { body: 'probe', previewUrl: false } },
            idempotencyKey: 'bench-probe',
            validity: undefined,
            replyTo: '',
            phoneNumberId: '',
          },
          args.metadataOf(),
          (error: ServiceError | null) => resolve(error === null),
        ),
      ),
    { timeoutMs: 120_000, intervalMs: 200, what: "the customers' windows in ingress's view" },
  );
  await waitFor(args.probeArrived, { timeoutMs: 30_000, what: 'the probe message at the simulator' });
  let openerFailed = false;
  return (index) => {
    windows.openUpTo(index + WINDOWS_AHEAD).catch((error: Error) => {
      if (!openerFailed) log(`${label}: opening customers' windows failed: ${error.message}`);
      openerFailed = true;
    });
  };
}

/**
 * The platform's send path: gRPC SendMessage at ingress -> SQLite -> JetStream -> delivery-retry -> SQLite -> the
 * Cloud API request arriving at the WhatsApp simulator. Ingress, delivery-retry and the simulator run as child
 * processes (SQLite in a temp folder); the simulator's events carry the moment they happened, on this process's clock.
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
      'ingress and delivery-retry as child processes (node --import tsx apps/<name>/src/main.ts, as npm start runs them) on SQLite in a temp folder, log level info to files; one nats-server; the WhatsApp simulator in a child process of its own (throughput 1000/s, pair rate limit off, customer service window not enforced, no webhook URL).',
      "Item = one text message sent with gRPC SendMessage (one channel, bearer API key) to its own recipient; end = the simulator receiving the Cloud API request for that recipient (its message_accepted event, timed in the simulator process and mapped onto this process's clock).",
      "Every recipient wrote first: its InboundMessageReceived is published on NATS ahead of the sends (as receipt would), so ingress also applies one customer-window update per message; a send that finds the window not yet in ingress's view is sent again 20 ms later (counted in its latency).",
      'Open loop: sends start on a fixed timetable whether or not earlier ones returned; latency counts from the scheduled time. Closed loop: a new send starts when an earlier message reached the simulator.',
      'Throughput = messages at the simulator per second from the first scheduled send to the last arrival (the upstream send rate sustained).',
      'CPU ms per message: CPU time (user + system, /proc/<pid>/stat; process.cpuUsage() for this process) of each service, nats-server, the simulator and this process (the load generator) from the first send to the end of the drain, divided by the messages completed.',
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
  let customers: JetStreamConnection | undefined;
  let probeArrived = false;
  const services: ServiceProcess[] = [];
  let current: CompletionTracker | undefined;
  try {
    const tenantsFile = path.join(dir.path, 'tenants.yaml');
    writeFileSync(tenantsFile, benchTenantsYaml(), { mode: 0o600 });
    const nats = await startNatsServer();
    stopNats = withCleanup(() => nats.stop());
    const simulator = await startSimulatorProcess(
      {
        options: {
          appSecret: BENCH_TENANT.appSecret,
          phoneNumbers: [BENCH_SIMULATOR_NUMBER],
          pairRateLimit: false,
          enforceCustomerServiceWindow: false,
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
    log('Delivery: starting ingress and delivery-retry ...');
    const [ingressPort, deliveryPort] = [await freePort(), await freePort()];
    services.push(
      ...(await Promise.all([
        startService('ingress', { env, logDir: dir.path, grpcPort: ingressPort }),
        startService('delivery-retry', { env, logDir: dir.path, grpcPort: deliveryPort }),
      ])),
    );
    const cpuMeter = new CpuMeter([
      ...services.map((service) => ({ name: service.name, pid: () => service.pid })),
      { name: 'nats-server', pid: () => nats.pid },
      { name: 'simulator', pid: () => simulator.pid },
      SELF,
    ]);
    const grpcClient = new MessagingServiceClient(`127.0.0.1:${ingressPort}`, credentials.createInsecure());
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
      label: 'Delivery',
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
          grpcClient.sendMessage(request, metadataOf(), { deadline }, (error: ServiceError | null) => {
            // The customer's window is not in ingress's view yet (the opener fell behind): the same request again.
            if (error?.code === grpcStatus.FAILED_PRECONDITION && Date.now() < deadline) return void setTimeout(attempt, 20);
            if (error) tracker.fail(waId, `SendMessage: ${error.code} ${error.details}`);
            else tracker.answered(scheduledAt);
            resolve();
          });
        attempt();
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
      const phase = await runPhase(spec, send, observe, cpuMeter);
      phases.push(phase);
      log(describePhase(phase));
    }
    return result({ warmup: warmupOf(warmup, profile.warmupRatePerSec) });
  } catch (error) {
    const logs = services.map((service) => `--- ${service.name} (last lines)\n${service.logTail(10)}`).join('\n');
    return result({ error: `${(error as Error).message}${logs ? `\n${logs}` : ''}` });
  } finally {
    client?.close();
    await customers?.nc.close();
    await Promise.all(services.map((service) => service.stop()));
    await stopSimulator?.();
    await stopNats?.();
    await removeDir();
  }
}
