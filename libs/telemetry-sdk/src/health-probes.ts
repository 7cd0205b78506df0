import type { IncomingMessage, ServerResponse } from 'node:http';

/** A gRPC server's overall `grpc.health.v1` status, as the readiness endpoint mirrors it. */
export type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** What `GET /readyz` reports: STARTING until the service has started and named its status source. */
export type ReadinessStatus = ServingStatus | 'STARTING';

/** The paths the probes answer on, plaintext on the metrics port (kubelet's gRPC probes cannot speak TLS). */
export const LIVENESS_PATH = '/livez';
export const READINESS_PATH = '/readyz';

/**
 * Plaintext liveness and readiness endpoints for kubelet's httpGet probes, served next to `/metrics`:
 * - `GET /livez`: 200 `{"status":"ok"}` whenever the process answers HTTP (its event loop runs).
 * - `GET /readyz`: 200 `{"status":"SERVING"}` or 503 `{"status":"NOT_SERVING"|"STARTING"}`: the same overall status
 *   the service's `grpc.health.v1.Health` reports, read from the source given to `follow` at every request.
 * Answers carry only the status: no configuration, no error text.
 */
export interface HealthProbes {
  /** Mirrors `source` from now on (the gRPC server's overall health status); called once the service has started. */
  follow(source: () => ServingStatus): void;
  /** The status `/readyz` reports now. */
  readiness(): ReadinessStatus;
  /** Answers the request if it is for a probe path and returns true; false leaves it to the caller. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
}

function answer(response: ServerResponse, statusCode: number, body: Record<string, string>, headers: Record<string, string> = {}): void {
  response.statusCode = statusCode;
  response.setHeader('content-type', 'application/json');
  // A cached "ready" must never stand in for the current state.
  response.setHeader('cache-control', 'no-store');
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.end(JSON.stringify(body));
}

/** Creates the probes; `/readyz` reports STARTING until `follow` is called. */
export function createHealthProbes(): HealthProbes {
  let source: (() => ServingStatus) | undefined;
  const readiness = (): ReadinessStatus => {
    if (!source) return 'STARTING';
    try {
      return source() === 'SERVING' ? 'SERVING' : 'NOT_SERVING';
    } catch {
      // A source that cannot say is not a reason to send traffic.
      return 'NOT_SERVING';
    }
  };
  return {
    follow(next) {
      source = next;
    },
    readiness,
    handle(request, response) {
      const path = (request.url ?? '').split('?')[0];
      if (path !== LIVENESS_PATH && path !== READINESS_PATH) return false;
      // Drain whatever a client sent; the probes read nothing from the request.
      request.resume();
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        answer(response, 405, { error: `method not allowed: ${path} answers GET` }, { allow: 'GET, HEAD' });
        return true;
      }
      if (path === LIVENESS_PATH) {
        answer(response, 200, { status: 'ok' });
        return true;
      }
      const status = readiness();
      answer(response, status === 'SERVING' ? 200 : 503, { status });
      return true;
    },
  };
}
