import { describe, expect, it } from 'vitest';
import { DEADLINE_GRACE_MILLIS, type DeadlineParty, StallWatch, WaitDeadline } from './wait-deadline';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Outcome {
  timedOutAtMs?: number;
  storeError?: unknown;
}

/** A waiter whose job bottleneck reports as `wouldRun`, answering after `answerMs` (never when undefined). */
function party(options: {
  wouldRun?: () => boolean;
  answerMs?: number | undefined;
  shared?: boolean;
  about?: boolean;
}): DeadlineParty<Outcome> & { waiting: boolean } {
  const state = {
    waiting: true,
    isWaiting: () => state.waiting,
    wouldRunNow: () =>
      options.about === false
        ? undefined
        : new Promise<boolean>((resolve) => {
            if (options.answerMs !== undefined)
              setTimeout(() => resolve(options.wouldRun?.() ?? false), options.answerMs);
          }),
    timeOut: (waiter: Outcome) => {
      state.waiting = false;
      waiter.timedOutAtMs = Date.now();
    },
    ...(options.shared
      ? {
          storeFailed: (waiter: Outcome, error: unknown) => {
            state.waiting = false;
            waiter.storeError = error;
          },
        }
      : {}),
  };
  return state;
}

describe('WaitDeadline', () => {
  it('times a waiter out at its deadline when no job is about to run for it', async () => {
    const outcome: Outcome = {};
    const startedMs = Date.now();
    new WaitDeadline(startedMs + 30, outcome, party({ about: false }));
    await sleep(60);
    expect(outcome.timedOutAtMs! - startedMs).toBeGreaterThanOrEqual(29);
    expect(outcome.timedOutAtMs! - startedMs).toBeLessThan(30 + DEADLINE_GRACE_MILLIS);
  });

  it('keeps a waiter whose job is about to run past its deadline, within the grace', async () => {
    const outcome: Outcome = {};
    const waiter = party({ wouldRun: () => true, answerMs: 1 });
    new WaitDeadline(Date.now() + 20, outcome, waiter);
    await sleep(60);
    // Still waiting: bottleneck says the job would run, and the grace has not passed.
    expect(waiter.waiting).toBe(true);
    await sleep(DEADLINE_GRACE_MILLIS);
    expect(outcome.timedOutAtMs).toBeDefined();
  });

  it('does nothing once the waiter stopped waiting', async () => {
    const outcome: Outcome = {};
    const waiter = party({ about: false });
    new WaitDeadline(Date.now() + 10, outcome, waiter);
    waiter.waiting = false;
    await sleep(30);
    expect(outcome.timedOutAtMs).toBeUndefined();
  });

  it('hands a check that never answers to the shared store, within the grace', async () => {
    const outcome: Outcome = {};
    const startedMs = Date.now();
    new WaitDeadline(startedMs + 10, outcome, party({ answerMs: undefined, shared: true }));
    await sleep(10 + DEADLINE_GRACE_MILLIS + 40);
    expect(outcome.storeError).toBeInstanceOf(Error);
    expect(outcome.timedOutAtMs).toBeUndefined();
  });

  it('times a waiter out when a local check never answers', async () => {
    const outcome: Outcome = {};
    new WaitDeadline(Date.now() + 10, outcome, party({ answerMs: undefined }));
    await sleep(10 + DEADLINE_GRACE_MILLIS + 40);
    expect(outcome.timedOutAtMs).toBeDefined();
  });

  it('is stopped by cancel()', async () => {
    const outcome: Outcome = {};
    new WaitDeadline(Date.now() + 10, outcome, party({ about: false })).cancel();
    await sleep(30);
    expect(outcome.timedOutAtMs).toBeUndefined();
  });
});

describe('StallWatch', () => {
  const store = (available: () => boolean) => ({
    isAvailable: available,
    commandTimeoutMillis: 20,
    describeFailure: (failure: string, boundMillis: number) => new Error(`${failure} ${boundMillis}`),
  });

  it("fails the wait with the store's error once the store stops answering", async () => {
    let available = true;
    const errors: Error[] = [];
    new StallWatch(
      store(() => available),
      () => true,
      (error) => errors.push(error),
    );
    await sleep(50);
    expect(errors).toEqual([]);
    available = false;
    await sleep(40);
    expect(errors.map((error) => error.message)).toEqual(['stopped-answering 20']);
  });

  it('stops checking when the wait is over, or when stopped', async () => {
    const errors: Error[] = [];
    new StallWatch(
      store(() => false),
      () => false,
      (error) => errors.push(error),
    );
    new StallWatch(
      store(() => false),
      () => true,
      (error) => errors.push(error),
    ).stop();
    await sleep(50);
    expect(errors).toEqual([]);
  });
});
