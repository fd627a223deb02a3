// Realistic replies: every reply carries the provider's rate-limit headers, as OpenAI's do, and
// Tollgate's limits sit at the tier those headers advertise. Does feeding the headers back into
// the limiter on every reply cost throughput?
import { startMockProvider } from '@tollgate/mock-provider';
import { fixed, median, table, thousands } from './stats.mjs';
import { Worker } from './worker.mjs';
import { PROVIDER_TIER } from './workloads.mjs';

const TIER_KNOBS = {
  limitRequests: PROVIDER_TIER.requestsPerMinute,
  limitTokens: PROVIDER_TIER.tokensPerMinute,
};

const LABELS = {
  peer: 'telemetry only (@opentelemetry/instrumentation-openai), headers on every reply',
  'gate-tier': 'Tollgate full gate, limits at the tier, headers on every reply',
  'gate-tier-deaf': 'Tollgate full gate, limits at the tier, headers read but not applied to the limiter',
  'gate-tier-quiet': 'Tollgate full gate, limits at the tier, replies without headers',
};

/**
 * Four workers, each with a mock of its own (the mock's windows are per model, so sharing one
 * would let one variant's calls drain another's advertised remaining): telemetry-only, the full
 * gate, and the full gate with provider feedback switched off, against mocks that send the
 * headers; the full gate against one that sends none. Rounds are interleaved; ratios are
 * medians of per-round ratios. Feedback on / off isolates what applying the headers costs;
 * headers on / none adds what sending, receiving and reading them costs (mock and SDK included).
 */
export async function providerTierSection({ rounds, callsPerRound, concurrency, outputTokens, log }) {
  const specs = [
    ['peer', TIER_KNOBS],
    ['gate-tier', TIER_KNOBS],
    ['gate-tier-deaf', TIER_KNOBS],
    ['gate-tier-quiet', false],
  ];
  const mocks = [];
  const workers = [];
  try {
    for (const [variant, rateLimit] of specs) {
      const mock = await startMockProvider({ recordRequests: false, rateLimit, outputTokens });
      mocks.push(mock);
      workers.push(new Worker(variant, { BENCH_OPENAI_BASE_URL: mock.openaiBaseUrl }));
    }
    await Promise.all(workers.map((worker) => worker.ready));
    for (const worker of workers) await worker.run('calls', { count: 300, concurrency });
    const rates = new Map(workers.map((worker) => [worker.variant, []]));
    for (let round = 0; round < rounds; round++) {
      // Order reversed every other round, so a drift in the machine's load favours no variant.
      for (const worker of round % 2 === 0 ? workers : [...workers].reverse()) {
        const result = await worker.run('calls', { count: callsPerRound, concurrency });
        rates.get(worker.variant).push((callsPerRound / result.wallMs) * 1000);
      }
      log?.(`   realistic replies: round ${round + 1}/${rounds}`);
    }
    const held = await workers[1].run('decisions', {});
    const heldQuiet = await workers[3].run('decisions', {});
    const ratio = (a, b) => median(rates.get(a).map((rate, round) => rate / rates.get(b)[round]));
    const feedbackRatio = ratio('gate-tier', 'gate-tier-deaf');
    const headersRatio = ratio('gate-tier', 'gate-tier-quiet');
    const peerRatio = ratio('gate-tier', 'peer');
    const sent = mocks.map((mock) => mock.billed().requests);
    const throttled = (held.throttled ?? 0) + (held['rate-limited'] ?? 0);
    const throttledQuiet = (heldQuiet.throttled ?? 0) + (heldQuiet['rate-limited'] ?? 0);
    return {
      section: {
        title: '9. Realistic replies: provider rate-limit headers on every reply',
        body: table(
          ['variant', 'calls/s', 'vs feedback not applied', 'vs no headers'],
          specs.map(([variant]) => [
            LABELS[variant],
            thousands(median(rates.get(variant))),
            `${fixed(ratio(variant, 'gate-tier-deaf'), 3)}×`,
            `${fixed(ratio(variant, 'gate-tier-quiet'), 3)}×`,
          ]),
        ),
        note:
          `The mock advertises ${thousands(PROVIDER_TIER.requestsPerMinute)} requests and ${thousands(PROVIDER_TIER.tokensPerMinute)} tokens a minute in \`x-ratelimit-*\` headers on every reply, counting down as calls arrive; Tollgate's rate limit is set to the same figures, and each reply's headers are read and fed to the limiter. ` +
          `${concurrency} concurrent callers, ${callsPerRound} calls per round, ${rounds} interleaved rounds (order reversed every other round), each variant with a mock of its own (${sent.map(thousands).join(' / ')} requests served). ` +
          `Paired ratios (median of per-round ratios): feedback applied / not applied **${fixed(feedbackRatio, 3)}×**; headers / no headers ${fixed(headersRatio, 3)}×; full gate over telemetry-only, both with headers, ${fixed(peerRatio, 3)}×. ` +
          `Calls the limiter held back (waited) or refused: ${throttled} with feedback applied, ${throttledQuiet} without headers.`,
      },
      check: {
        target:
          'Realistic replies: provider feedback on every reply does not lower throughput (feedback applied / not applied ≥ 0.95, paired)',
        measured: `${fixed(feedbackRatio, 3)}× (headers / no headers ${fixed(headersRatio, 3)}×; calls held back: ${throttled} with feedback applied, ${throttledQuiet} without headers)`,
        met: feedbackRatio >= 0.95 && throttled <= throttledQuiet,
      },
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.close().catch(() => {})));
    await Promise.all(mocks.map((mock) => mock.close()));
  }
}
