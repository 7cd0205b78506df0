// Loaded first by main.ts: the SDK must hook gRPC and HTTP before anything requires them.
import { startTelemetry } from '@waygate/telemetry-sdk';

export const telemetry = startTelemetry('delivery-retry');
