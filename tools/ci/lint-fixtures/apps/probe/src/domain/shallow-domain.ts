// Probe: a domain file directly in src/domain/. The first import was the only kind the old rule caught.
import '../adapters/sqlite-message-store'; // expect: no-restricted-imports
import '@waygate/contracts'; // expect: no-restricted-imports
import '@opentelemetry/sdk-node'; // expect: no-restricted-imports
import '@opentelemetry/api';
import '@waygate/domain';
