/** Ctrl-C (SIGINT) or SIGTERM stops a run at the next step boundary, leaving a resumable checkpoint. */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130); // a second signal: give up waiting
    process.stderr.write(`\ndas: ${signal} received, stopping at the next step boundary (again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
