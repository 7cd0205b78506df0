// Probe: a domain file two folders down (like receipt's src/feed/domain/ or src/domain/feed/). Every import below
// breaks a boundary; `expect:` names the rules that must report it (tools/ci/lint-rules.test.ts checks exactly these).
import '../../adapters/sqlite-feed-store'; // expect: no-restricted-imports
import '../../../adapters/feed/mongo-feed-store'; // expect: no-restricted-imports
import '../../handlers/feed/receipt-service.handler'; // expect: no-restricted-imports
import '../../testing/feed-harness'; // expect: no-restricted-imports
import '../../../server'; // expect: no-restricted-imports
import '../../../main'; // expect: no-restricted-imports
import '../../../feed-config'; // expect: no-restricted-imports
import '../../start-tenant-feed'; // expect: no-restricted-imports
import '../../../webhooks/start-webhook-intake.ts'; // expect: no-restricted-imports
import '@waygate/contracts'; // expect: no-restricted-imports
import '@waygate/proto'; // expect: no-restricted-imports
import '@waygate/nats'; // expect: no-restricted-imports
import '@waygate/grpc'; // expect: no-restricted-imports
import '@waygate/storage'; // expect: no-restricted-imports
import '@waygate/config'; // expect: no-restricted-imports
import '@waygate/testing'; // expect: no-restricted-imports
import '@waygate/telemetry-sdk'; // expect: no-restricted-imports
import '@waygate/whatsapp-simulator'; // expect: no-restricted-imports
import '@opentelemetry/sdk-node'; // expect: no-restricted-imports
import '@opentelemetry/sdk-trace-base'; // expect: no-restricted-imports
import '@opentelemetry/sdk-metrics'; // expect: no-restricted-imports
import '@opentelemetry/instrumentation'; // expect: no-restricted-imports, import-x/no-extraneous-dependencies
import '@opentelemetry/instrumentation-grpc'; // expect: no-restricted-imports
import '@opentelemetry/exporter-trace-otlp-http'; // expect: no-restricted-imports, import-x/no-extraneous-dependencies
import '@opentelemetry/resources'; // expect: no-restricted-imports
import '@opentelemetry/core'; // expect: no-restricted-imports
import '@opentelemetry/context-async-hooks'; // expect: no-restricted-imports, import-x/no-extraneous-dependencies
import '@grpc/grpc-js'; // expect: no-restricted-imports
import 'nats'; // expect: no-restricted-imports
import 'mongodb'; // expect: no-restricted-imports
import 'better-sqlite3'; // expect: no-restricted-imports
import 'express'; // expect: no-restricted-imports
import 'pino'; // expect: no-restricted-imports
import 'node:fs'; // expect: no-restricted-imports
import 'node:http'; // expect: no-restricted-imports
export type { Duration } from '@waygate/proto'; // expect: no-restricted-imports
export const later = () => import('../../adapters/sqlite-feed-store'); // expect: no-restricted-syntax
