// Probe: an app's shipped (non-test) code. Outside domain/ the SDK is fine; test tools and devDependencies are not.
import '@waygate/whatsapp-simulator'; // expect: no-restricted-imports
import '@waygate/local-run'; // expect: no-restricted-imports
import 'fast-check'; // expect: import-x/no-extraneous-dependencies
import '@opentelemetry/sdk-trace-node'; // expect: import-x/no-extraneous-dependencies
import '@opentelemetry/sdk-node';
import '@waygate/contracts';
import '@grpc/grpc-js';
import '../adapters/sqlite-message-store';
