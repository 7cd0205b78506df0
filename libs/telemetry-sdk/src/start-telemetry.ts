import { appendFileSync } from 'node:fs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
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

/** Handle to flush and stop telemetry at shutdown. */
export interface Telemetry {
  shutdown(): Promise<void>;
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
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  env.OTEL_SERVICE_NAME ??= serviceName;

  // Without any span processor the SDK registers no tracer provider and every trace id is zero; with exporting off
  // a no-op processor keeps real, propagated ids (for logs) at almost no cost. Passing processors replaces the
  // env-configured exporter, so only do it when no OTEL_* exporter is configured.
  const spanProcessors: SpanProcessor[] = env.WAYGATE_TRACE_FILE
    ? [new SimpleSpanProcessor(new JsonLinesFileSpanExporter(env.WAYGATE_TRACE_FILE, serviceName))]
    : [new NoopSpanProcessor()];

  const sdk = new NodeSDK({
    ...(exporterConfigured ? {} : { spanProcessors }),
    instrumentations: [new GrpcInstrumentation(), new HttpInstrumentation()],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
