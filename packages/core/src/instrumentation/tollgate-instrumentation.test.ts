import { metrics, trace } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { TollgateConfigError } from '../errors/config-error';
import { createGuard } from '../guard/guard';
import type { LoadedSdk, SdkDescription, SdkTarget, TollgateInstrumentationConfig } from './sdk-description';
import { TollgateInstrumentation } from './tollgate-instrumentation';

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** An SDK shaped like the Stainless ones: a client class with post(), a resource class, an APIPromise export. */
function fakeSdk() {
  class Base {
    post(path: string) {
      return `sent ${path}`;
    }
    fetchWithTimeout() {
      return Promise.resolve(new Response('{}'));
    }
  }
  class Widgets {
    list() {
      return 'listed';
    }
  }
  class Fake extends Base {
    static Widgets = Widgets;
  }
  class APIPromise {}
  return { Fake, Widgets, Base, APIPromise };
}
type FakeClass = ReturnType<typeof fakeSdk>['Fake'];

interface FakeConfig extends TollgateInstrumentationConfig {
  mode?: 'fast' | 'careful';
  verbose?: boolean;
}

const FAKE_SDK: SdkDescription = {
  packageName: '@tollgate/instrumentation-fake',
  packageVersion: '0.0.0',
  className: 'FakeInstrumentation',
  moduleName: 'fake-sdk',
  clientExport: 'Fake',
  supportedRange: '>=2 <3',
  isSupportedVersion: (version) => version.startsWith('2.'),
  configPath: 'instrumentations.fake',
  options: { mode: { oneOf: ['fast', 'careful'], default: 'careful' }, verbose: { type: 'boolean' } },
};

class FakeInstrumentation extends TollgateInstrumentation<FakeConfig, FakeClass> {
  constructor(config: FakeConfig) {
    super(FAKE_SDK, config);
  }

  protected override targets({ client }: LoadedSdk<FakeClass>): SdkTarget[] {
    const tag = (label: string) => (original: Method) =>
      function (this: unknown, ...args: unknown[]) {
        return `${label}(${String(original.apply(this, args))})`;
      };
    return [
      { name: 'post', prototype: client.prototype, method: 'post', required: true, wrap: tag('gated') },
      { name: 'Widgets.list', prototype: client.Widgets.prototype, method: 'list', wrap: tag('seen') },
    ];
  }

  currentGate() {
    return this.gate();
  }
}

const guard = createGuard();
let warnings: ReturnType<typeof captureWarnings>;

function captureWarnings() {
  return vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
}

function warned(): Array<[string, string | undefined]> {
  const calls = warnings.mock.calls as unknown as Array<[string, { code?: string } | undefined]>;
  return calls.map(([message, options]) => [String(message), options?.code]);
}

describe('TollgateInstrumentation', () => {
  warnings = captureWarnings();
  afterEach(() => warnings.mockClear());
  afterAll(async () => {
    warnings.mockRestore();
    await guard.close();
  });

  it('refuses a bad option when it is set, naming its path, and fills in option defaults', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ guard, mode: 'reckless' }, 'instrumentations.fake.mode'],
      [{ guard, verbose: 'yes' }, 'instrumentations.fake.verbose'],
      [{ guard, providerName: '' }, 'instrumentations.fake.providerName'],
      [{ guard, enabled: 'no' }, 'instrumentations.fake.enabled'],
      [{ guard: { budgets: [] } }, 'instrumentations.fake.guard'],
    ];
    for (const [config, field] of cases) {
      expect(() => new FakeInstrumentation(config as never), field).toThrow(
        expect.objectContaining({ field }) as TollgateConfigError,
      );
    }
    const instrumentation = new FakeInstrumentation({ guard, enabled: false });
    expect(instrumentation.getConfig()).toMatchObject({ mode: 'careful' });
    expect(() => instrumentation.setConfig({ guard, mode: 'x' as never })).toThrow(TollgateConfigError);
    expect(instrumentation.getConfig()).toMatchObject({ mode: 'careful', enabled: false });
  });

  it('warns at once without a guard, and gates nothing', () => {
    const instrumentation = new FakeInstrumentation({ enabled: false } as never);
    expect(warned()).toContainEqual([
      '@tollgate/instrumentation-fake: FakeInstrumentation was given no guard (config.guard from createGuard()); fake-sdk calls are NOT gated.',
      'TOLLGATE_NO_GUARD',
    ]);
    instrumentation.enable();
    expect(instrumentation.currentGate()).toBeUndefined();
    instrumentation.disable();
  });

  it('makes one call gate, and a new one for a new config, tracer or meter provider; none while disabled', () => {
    const instrumentation = new FakeInstrumentation({ guard });
    const first = instrumentation.currentGate();
    expect(first).toBeDefined();
    expect(instrumentation.currentGate()).toBe(first);
    instrumentation.setTracerProvider(trace.getTracerProvider());
    const second = instrumentation.currentGate();
    expect(second).not.toBe(first);
    instrumentation.setMeterProvider(metrics.getMeterProvider());
    const third = instrumentation.currentGate();
    expect(third).not.toBe(second);
    instrumentation.setConfig({ guard });
    expect(instrumentation.currentGate()).not.toBe(third);
    instrumentation.disable();
    expect(instrumentation.currentGate()).toBeUndefined();
  });

  it('patches every target and the per-attempt fetch, and unpatching restores each one', async () => {
    const sdk = fakeSdk();
    const originals = [
      sdk.Base.prototype.post,
      sdk.Widgets.prototype.list,
      sdk.Base.prototype.fetchWithTimeout,
    ];
    const instrumentation = new FakeInstrumentation({ guard, enabled: false });
    instrumentation.instrument({ Fake: sdk.Fake, APIPromise: sdk.APIPromise });
    const client = new sdk.Fake();
    expect(client.post('/x')).toBe('gated(sent /x)');
    expect(new sdk.Widgets().list()).toBe('seen(listed)');
    // Wrapped where it is defined, not on the subclass.
    expect(Object.hasOwn(sdk.Fake.prototype, 'post')).toBe(false);
    expect((sdk.Base.prototype.fetchWithTimeout as { __wrapped?: boolean }).__wrapped).toBe(true);
    await client.fetchWithTimeout();
    instrumentation.uninstrument({ Fake: sdk.Fake, APIPromise: sdk.APIPromise });
    expect([
      sdk.Base.prototype.post,
      sdk.Widgets.prototype.list,
      sdk.Base.prototype.fetchWithTimeout,
    ]).toEqual(originals);
    expect(warned()).toEqual([]);
  });

  it.each([
    [
      'the client as the ESM default',
      (sdk: ReturnType<typeof fakeSdk>) => ({ default: sdk.Fake, APIPromise: sdk.APIPromise }),
    ],
    [
      'the exports on the ESM default',
      (sdk: ReturnType<typeof fakeSdk>) => ({ default: { Fake: sdk.Fake, APIPromise: sdk.APIPromise } }),
    ],
  ])('finds %s', (_, moduleOf) => {
    const sdk = fakeSdk();
    const instrumentation = new FakeInstrumentation({ guard, enabled: false });
    instrumentation.instrument(moduleOf(sdk));
    expect(new sdk.Fake().post('/y')).toBe('gated(sent /y)');
    instrumentation.uninstrument(moduleOf(sdk));
    expect(new sdk.Fake().post('/y')).toBe('sent /y');
  });

  it('warns and patches nothing for a version outside the range or an SDK it does not recognise', () => {
    const instrumentation = new FakeInstrumentation({ guard, enabled: false });
    const [definition] = instrumentation.getModuleDefinitions();
    expect(definition?.name).toBe('fake-sdk');
    const sdk = fakeSdk();
    const post = sdk.Base.prototype.post;
    definition!.patch!({ Fake: sdk.Fake, APIPromise: sdk.APIPromise }, '1.9.0');
    instrumentation.instrument({ Fake: sdk.Fake });
    delete (sdk.Base.prototype as Partial<typeof sdk.Base.prototype>).post;
    instrumentation.instrument({ Fake: sdk.Fake, APIPromise: sdk.APIPromise });
    expect(warned()).toEqual([
      [
        '@tollgate/instrumentation-fake: fake-sdk 1.9.0 is outside the supported range >=2 <3; its calls are NOT gated.',
        'TOLLGATE_UNSUPPORTED_SDK_VERSION',
      ],
      [
        '@tollgate/instrumentation-fake: the fake-sdk module does not look as expected (no Fake client class or no APIPromise export); its calls are NOT gated.',
        'TOLLGATE_SDK_NOT_RECOGNISED',
      ],
      [
        '@tollgate/instrumentation-fake: the fake-sdk module does not look as expected (no post() on the Fake client); its calls are NOT gated.',
        'TOLLGATE_SDK_NOT_RECOGNISED',
      ],
    ]);
    expect((sdk.Widgets.prototype.list as { __wrapped?: boolean }).__wrapped).toBeUndefined();
    expect((post as { __wrapped?: boolean }).__wrapped).toBeUndefined();
  });

  it('patches an SDK with plain promises (plainPromises) without an APIPromise export', () => {
    class PlainInstrumentation extends TollgateInstrumentation<FakeConfig, FakeClass> {
      constructor(config: FakeConfig) {
        super({ ...FAKE_SDK, plainPromises: true }, config);
      }
      protected override targets({ client, APIPromise }: LoadedSdk<FakeClass>): SdkTarget[] {
        expect(APIPromise).toBe(Promise);
        return [
          { name: 'post', prototype: client.prototype, method: 'post', required: true, wrap: (m) => m },
        ];
      }
    }
    const plain = new PlainInstrumentation({ guard, enabled: false });
    const sdk = fakeSdk();
    plain.instrument({ Fake: sdk.Fake });
    expect(warned()).toEqual([]);
    expect((sdk.Base.prototype.post as { __wrapped?: boolean }).__wrapped).toBe(true);
    plain.uninstrument({ Fake: sdk.Fake });
    expect((sdk.Base.prototype.post as { __wrapped?: boolean }).__wrapped).toBeUndefined();
  });
});
