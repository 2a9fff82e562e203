/** How a backend start ended within a deadline: started, failed (false or thrown), or still pending. */
export type StartOutcome = 'started' | 'failed' | 'timeout';

/** Waits at most `ms` for `start`; the timer is cleared as soon as it settles. */
export async function settleWithin(start: Promise<boolean>, ms: number): Promise<StartOutcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<StartOutcome>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const outcome = start.then(
    (ok): StartOutcome => (ok ? 'started' : 'failed'),
    (): StartOutcome => 'failed',
  );
  try {
    return await Promise.race([outcome, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
