import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExportResultCode, hrTimeToMilliseconds, type ExportResult } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
// Not in sdk-node's index, but the same functions NodeSDK itself uses for OTEL_METRICS_EXPORTER=otlp: passing our own
// metric readers (for Prometheus) replaces its env-configured ones, so an opted-in OTLP reader is built the same way.
import { getOtlpMetricExporterFromEnv, getPeriodicExportingMetricReaderFromEnv } from '@opentelemetry/sdk-node/build/src/utils';
import type { Logger } from '@waygate/telemetry';
import { startEventLoopMetrics } from './event-loop-metrics';
import { createHealthProbes, LIVENESS_PATH, READINESS_PATH, type HealthProbes, type ServingStatus } from './health-probes';
import {
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * Writes each finished span as one JSON line to a file. For local runs and the end-to-end test, which asserts that
 * one message's spans from every service share a trace; production uses OTLP via the standard OTEL_* variables.
 */
class JsonLinesFileSpanExporter implements SpanExporter {
  constructor(
    private readonly file: string,
    private readonly serviceName: string,
  ) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const lines = spans.map((span) =>
      JSON.stringify({
        service: this.serviceName,
        name: span.name,
        traceId: span.spanContext().traceId,
        spanId: span.spanContext().spanId,
        parentSpanId: span.parentSpanContext?.spanId,
        kind: span.kind,
        links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
        attributes: span.attributes,
        // Wall-clock start (ms since the epoch) and duration, so that a trace file shows where a message waited.
        startMs: hrTimeToMilliseconds(span.startTime),
        durationMs: hrTimeToMilliseconds(span.duration),
      }),
    );
    try {
      appendFileSync(this.file, `${lines.join('\n')}\n`);
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Where a service serves its Prometheus metrics (`GET /metrics`). */
export interface MetricsEndpoint {
  readonly host: string;
  /** 0 picks a free port (tests); the bound port is returned and logged. */
  readonly port: number;
}

/** Handle to serve metrics once the configuration is read, and to flush and stop telemetry at shutdown. */
export interface Telemetry {
  /**
   * Serves the process's metrics in the Prometheus text format on `GET /metrics`, and the plaintext probes
   * `GET /livez` and `GET /readyz` (see {@link HealthProbes}; anything else is 404), and resolves with the bound port
   * once listening; rejects (a failed start) if the port is taken. Closed by `shutdown`.
   */
  serveMetrics(endpoint: MetricsEndpoint, logger?: Logger): Promise<{ port: number }>;
  /**
   * Makes `GET /readyz` mirror `source` (the gRPC server's overall health status); until then it answers 503
   * STARTING. runService calls it with the started service's `servingStatus`.
   */
  followReadiness(source: () => ServingStatus): void;
  shutdown(): Promise<void>;
}

/** OTEL_METRICS_EXPORTER, as the SDK reads it: a comma-separated list; Waygate's default is none (Prometheus only). */
function pushMetricReaders(env: NodeJS.ProcessEnv): MetricReader[] {
  const exporters = (env.OTEL_METRICS_EXPORTER ?? 'none').split(',').map((name) => name.trim());
  if (exporters.includes('none') || !exporters.includes('otlp')) return [];
  return [getPeriodicExportingMetricReaderFromEnv(getOtlpMetricExporterFromEnv()) as MetricReader];
}

/** Paths of the metrics server, none of them traced (scrapes and probes would flood the traces). */
const UNTRACED_PATHS = ['/metrics', LIVENESS_PATH, READINESS_PATH];

/** An HTTP server answering `GET /metrics` from the exporter and the health probes. */
function createMetricsServer(exporter: PrometheusExporter, probes: HealthProbes): Server {
  return createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method === 'GET' && path === '/metrics') {
      exporter.getMetricsRequestHandler(request, response);
      return;
    }
    if (probes.handle(request, response)) return;
    response.statusCode = 404;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ error: 'not found: metrics are served on GET /metrics, probes on GET /livez and /readyz' }));
  });
}

/**
 * Starts the OpenTelemetry Node SDK. Must run before `@grpc/grpc-js` and `http` are loaded (import it first in
 * main.ts) so that their instrumentations hook in. Exporting is off unless an OTEL_* exporter or endpoint is set
 * (spans still get real ids, so logs carry trace ids) or WAYGATE_TRACE_FILE names a JSON-lines file.
 */
export function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): Telemetry {
  const exporterConfigured = Boolean(env.OTEL_TRACES_EXPORTER || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  // The SDK reads these itself; defaulting them to "none" is how "off by default" is expressed to it.
  env.OTEL_TRACES_EXPORTER ??= exporterConfigured ? undefined : 'none';
  const metricReaders = pushMetricReaders(env);
  env.OTEL_LOGS_EXPORTER ??= 'none';
  env.OTEL_SERVICE_NAME ??= serviceName;

  // Without any span processor the SDK registers no tracer provider and every trace id is zero; with exporting off
  // a no-op processor keeps real, propagated ids (for logs) at almost no cost. Passing processors replaces the
  // env-configured exporter, so only do it when no OTEL_* exporter is configured.
  const spanProcessors: SpanProcessor[] = env.WAYGATE_TRACE_FILE
    ? [new SimpleSpanProcessor(new JsonLinesFileSpanExporter(env.WAYGATE_TRACE_FILE, serviceName))]
    : [new NoopSpanProcessor()];

  // Every service is scraped on /metrics; the exporter's own server is not started, the port comes from the
  // service's validated configuration (serveMetrics).
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const sdk = new NodeSDK({
    ...(exporterConfigured ? {} : { spanProcessors }),
    metricReaders: [prometheus, ...metricReaders],
    instrumentations: [
      new GrpcInstrumentation(),
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.includes((request.url ?? '').split('?')[0]),
      }),
    ],
  });
  sdk.start();
  const stopEventLoopMetrics = startEventLoopMetrics();
  let metricsServer: Server | undefined;
  const probes = createHealthProbes();
  return {
    async serveMetrics(endpoint, logger) {
      const server = createMetricsServer(prometheus, probes);
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error: Error) => reject(new Error(`metrics endpoint ${endpoint.host}:${endpoint.port}: ${error.message}`)));
        server.listen(endpoint.port, endpoint.host, resolve);
      });
      metricsServer = server;
      const port = (server.address() as AddressInfo).port;
      logger?.info({ host: endpoint.host, port }, 'metrics endpoint listening on /metrics (probes on /livez, /readyz)');
      return { port };
    },
    followReadiness(source) {
      probes.follow(source);
    },
    async shutdown() {
      const server = metricsServer;
      metricsServer = undefined;
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      stopEventLoopMetrics();
      await sdk.shutdown();
    },
  };
}
