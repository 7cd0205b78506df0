/**
 * What to undo if the run is interrupted (Ctrl-C): each benchmark registers its nats-server, services and temp
 * folder while they exist, so an interrupted run leaves nothing behind. Normal runs clean up in their `finally`.
 */
const cleanups = new Set<() => unknown>();

/** Registers `cleanup` and returns a function that runs it once and unregisters it (call that in `finally`). */
export function withCleanup(cleanup: () => unknown): () => Promise<void> {
  let done = false;
  const run = async () => {
    cleanups.delete(run);
    if (done) return;
    done = true;
    await cleanup();
  };
  cleanups.add(run);
  return run;
}

/** Runs every registered cleanup, newest first (services before the nats-server they use). */
export async function cleanUpEverything(): Promise<void> {
  for (const cleanup of [...cleanups].reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
}
