// Concurrency for the workloads: a fixed number of callers drawing from one shared count.

/** Runs `task(index)` for every index below `count`, at most `concurrency` at a time. */
export async function runConcurrently(count, concurrency, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
