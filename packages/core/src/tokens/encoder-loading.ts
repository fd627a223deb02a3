import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { TiktokenBPE } from 'js-tiktoken/lite';
import type { TiktokenEncodingName } from './encoding-for-model';
import type { LoadedEncoder } from './loaded-encoder';

/**
 * How long one slice of a background build may hold the event loop. A call in flight needs
 * several turns of the loop (connect, write, read, parse), and each turn may run one slice,
 * so slices are kept short; the whole build is ~0.1–0.3 s of work either way.
 */
const SLICE_MILLIS = 2;
/** Ranks parsed between two looks at the clock. */
const RANKS_PER_CLOCK_CHECK = 256;

const loadedEncoders = new Map<TiktokenEncodingName, LoadedEncoder>();
const buildsUnderWay = new Map<TiktokenEncodingName, EncoderBuild>();
const failedBuilds = new Map<TiktokenEncodingName, unknown>();

function requireFromHere(): NodeJS.Require {
  // The CommonJS build has __filename; the ESM build has import.meta.url. require() is
  // used so the rank file loads synchronously, on first use, and only for this encoding.
  return createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
}

/**
 * The js-tiktoken rank file for an encoding, loaded on demand.
 *
 * @param encoding - The encoding name.
 * @returns The rank data (`pat_str`, `special_tokens`, `bpe_ranks`).
 * @throws When js-tiktoken is not installed.
 */
export function loadRankFile(encoding: TiktokenEncodingName): TiktokenBPE {
  const load = requireFromHere();
  // Literal specifiers, so tools that trace require() calls can still see both files.
  return encoding === 'o200k_base'
    ? (load('js-tiktoken/ranks/o200k_base') as TiktokenBPE)
    : (load('js-tiktoken/ranks/cl100k_base') as TiktokenBPE);
}

/**
 * The rank file read without blocking: the file is read off the main thread and its object
 * literal parsed as JSON (~6 ms, where require() compiles it as a module in ~25 ms). A file
 * that is not the `module.exports = {…}` form expected is loaded with require() instead.
 */
async function readRankFile(encoding: TiktokenEncodingName): Promise<TiktokenBPE> {
  try {
    const resolve = requireFromHere().resolve;
    const path =
      encoding === 'o200k_base'
        ? resolve('js-tiktoken/ranks/o200k_base')
        : resolve('js-tiktoken/ranks/cl100k_base');
    const source = await readFile(path, 'utf8');
    const parsed: unknown = JSON.parse(source.slice(source.indexOf('{'), source.lastIndexOf('}') + 1));
    const { pat_str: pattern, bpe_ranks: ranks } = (parsed ?? {}) as Partial<TiktokenBPE>;
    if (typeof pattern === 'string' && typeof ranks === 'string') return parsed as TiktokenBPE;
  } catch {
    // Bundled, moved or reformatted: require() below knows how to load it.
  }
  return loadRankFile(encoding);
}

/**
 * One encoder being built. js-tiktoken's compact rank format is lines of
 * `! <first rank> <base64 token> <base64 token> …`; the build walks those tokens in order and
 * can stop after any of them, so a background build runs in slices and a caller that needs
 * the encoder at once finishes what is left.
 */
class EncoderBuild {
  private readonly ranks = new Map<string, number>();
  private readonly lines: string[];
  private readonly pattern: string;
  private lineIndex = 0;
  private fields: string[] = [];
  private fieldIndex = 0;
  private firstRank = 0;

  constructor(
    readonly encoding: TiktokenEncodingName,
    rankFile: TiktokenBPE,
  ) {
    this.pattern = rankFile.pat_str;
    this.lines = rankFile.bpe_ranks.split('\n');
  }

  /** Parses ranks until `deadline` (a `performance.now()` time); returns the encoder once every rank is in. */
  advance(deadline: number): LoadedEncoder | undefined {
    let parsed = 0;
    while (parsed % RANKS_PER_CLOCK_CHECK !== 0 || performance.now() < deadline) {
      if (this.fieldIndex >= this.fields.length) {
        if (this.lineIndex >= this.lines.length) return this.finished();
        this.startLine(this.lines[this.lineIndex] ?? '');
        this.lineIndex += 1;
        continue;
      }
      // atob yields a binary string, one char per byte: the form pieces are looked up in.
      this.ranks.set(atob(this.fields[this.fieldIndex] ?? ''), this.firstRank + this.fieldIndex - 2);
      this.fieldIndex += 1;
      parsed += 1;
    }
    return undefined;
  }

  private startLine(line: string): void {
    const fields = line.split(' ');
    const firstRank = Number.parseInt(fields[1] ?? '', 10);
    this.fields = Number.isNaN(firstRank) ? [] : fields;
    this.fieldIndex = 2;
    this.firstRank = firstRank;
  }

  private finished(): LoadedEncoder {
    return {
      encoding: this.encoding,
      ranks: this.ranks,
      pieceSplitter: new RegExp(this.pattern, 'gu'),
      pieceCounts: new Map(),
      textCounts: new Map(),
      textCountChars: 0,
    };
  }
}

function buildFor(encoding: TiktokenEncodingName, rankFile?: TiktokenBPE): EncoderBuild {
  let build = buildsUnderWay.get(encoding);
  if (build === undefined) {
    build = new EncoderBuild(encoding, rankFile ?? loadRankFile(encoding));
    buildsUnderWay.set(encoding, build);
  }
  return build;
}

function keep(encoder: LoadedEncoder): LoadedEncoder {
  loadedEncoders.set(encoder.encoding, encoder);
  buildsUnderWay.delete(encoder.encoding);
  return encoder;
}

/**
 * The encoder for an encoding, built now if it is not yet, and kept for the life of the
 * process. Building takes ~0.12 s (cl100k_base) to ~0.25 s (o200k_base) of blocked event
 * loop; a background build under way is finished instead of started again.
 *
 * @param encoding - The encoding name.
 * @returns The cached encoder.
 * @throws When js-tiktoken or its rank file cannot be loaded.
 */
export function loadEncoder(encoding: TiktokenEncodingName): LoadedEncoder {
  const cached = loadedEncoders.get(encoding);
  if (cached !== undefined) return cached;
  const build = buildFor(encoding);
  const encoder = build.advance(Number.POSITIVE_INFINITY);
  // An unbounded advance always finishes; the check satisfies the type.
  if (encoder === undefined) throw new Error(`tollgate: building ${encoding} did not finish`);
  return keep(encoder);
}

/**
 * The encoder for an encoding if it is built, without building it.
 *
 * @param encoding - The encoding name.
 * @returns The encoder, or `undefined` while it is not built.
 */
export function builtEncoder(encoding: TiktokenEncodingName): LoadedEncoder | undefined {
  return loadedEncoders.get(encoding);
}

/**
 * Whether an encoding's encoder has been built in this process.
 *
 * @param encoding - The encoding name.
 * @returns `true` once `loadEncoder`, `preloadTokenizer` or a warm-up has built it.
 */
export function isEncoderLoaded(encoding: TiktokenEncodingName): boolean {
  return loadedEncoders.has(encoding);
}

/**
 * Why a background build of an encoding failed, if it did: the rank file could not be loaded.
 *
 * @param encoding - The encoding name.
 * @returns The error, or `undefined` when no build failed.
 */
export function encoderBuildFailure(encoding: TiktokenEncodingName): unknown {
  return failedBuilds.get(encoding);
}

/** A background build under way, and whether someone awaiting it keeps the process alive for it. */
interface WarmUp {
  readonly done: Promise<LoadedEncoder>;
  keepAlive: boolean;
}

const pendingWarmUps = new Map<TiktokenEncodingName, WarmUp>();

/**
 * Builds an encoder in the background: the rank file is read without blocking, then parsed
 * in slices of ~2 ms, each on its own `setImmediate`, so I/O and calls that arrive meanwhile
 * run between slices. Starting it again while it runs returns the same
 * promise; a synchronous `loadEncoder` meanwhile finishes the build at once.
 *
 * @param encoding - The encoding name.
 * @param keepAlive - Whether the build keeps the process alive. A guard's own warm-up does
 *   not (a short script must not wait ~0.3 s for a tokenizer it will never use); a caller
 *   awaiting the promise does, or it could be left unsettled.
 * @returns Resolves with the encoder once built; rejects when the rank file cannot be loaded
 *   (the failure is kept: see `encoderBuildFailure`).
 */
export function warmEncoder(encoding: TiktokenEncodingName, keepAlive: boolean): Promise<LoadedEncoder> {
  const cached = loadedEncoders.get(encoding);
  if (cached !== undefined) return Promise.resolve(cached);
  const pending = pendingWarmUps.get(encoding);
  if (pending !== undefined) {
    pending.keepAlive ||= keepAlive;
    return pending.done;
  }
  let schedule: () => void = () => undefined;
  let rankFile: TiktokenBPE | undefined;
  const done = new Promise<LoadedEncoder>((resolve, reject) => {
    const fail = (error: unknown): void => {
      pendingWarmUps.delete(encoding);
      buildsUnderWay.delete(encoding);
      failedBuilds.set(encoding, error);
      reject(error);
    };
    const slice = (): void => {
      try {
        const ready = loadedEncoders.get(encoding);
        const encoder = ready ?? buildFor(encoding, rankFile).advance(performance.now() + SLICE_MILLIS);
        if (encoder === undefined) {
          schedule();
          return;
        }
        pendingWarmUps.delete(encoding);
        resolve(ready ?? keep(encoder));
      } catch (error) {
        fail(error);
      }
    };
    schedule = () => {
      const next = setImmediate(slice);
      if (!warmUp.keepAlive) next.unref();
    };
    // The file read holds no handle the process waits for when unreferenced slices follow it,
    // but a short-lived process may still wait for the read itself (a few milliseconds).
    readRankFile(encoding).then((file) => {
      rankFile = file;
      schedule();
    }, fail);
  });
  const warmUp: WarmUp = { done, keepAlive };
  pendingWarmUps.set(encoding, warmUp);
  return done;
}
