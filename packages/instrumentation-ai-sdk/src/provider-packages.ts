import type { MethodHost } from '@tollgate/core/instrumentation';
import { methodHost } from '@tollgate/core/instrumentation';
import type { ProviderModule } from './internal-types';

/** Which calls a model class's prototype holds. */
export type ModelKind = 'language' | 'embedding';

/** One provider package whose model classes are patched on their prototypes. */
export interface ProviderPackage {
  /** The npm package, as the module hooks match it. */
  readonly moduleName: string;
  /** Its exported provider factory (`createOpenAI`). */
  readonly factoryExport: string;
  /** The provider's model factories (`provider.chat`) whose models' classes are patched. */
  readonly models: ReadonlyArray<readonly [factory: string, kind: ModelKind]>;
}

/** The provider packages `register()` gates with no code change. */
export const PROVIDER_PACKAGES: readonly ProviderPackage[] = [
  {
    moduleName: '@ai-sdk/openai',
    factoryExport: 'createOpenAI',
    models: [
      ['responses', 'language'],
      ['chat', 'language'],
      ['completion', 'language'],
      ['embedding', 'embedding'],
    ],
  },
  {
    moduleName: '@ai-sdk/anthropic',
    factoryExport: 'createAnthropic',
    models: [['messages', 'language']],
  },
  {
    moduleName: '@ai-sdk/google',
    factoryExport: 'createGoogleGenerativeAI',
    models: [
      ['chat', 'language'],
      ['interactions', 'language'],
      ['embedding', 'embedding'],
    ],
  },
];

/** Methods each kind of model is gated on. */
export const GATED_METHODS: Readonly<Record<ModelKind, readonly string[]>> = {
  language: ['doGenerate', 'doStream'],
  embedding: ['doEmbed'],
};

/** One prototype method to wrap. */
export interface ModelMethodHost {
  readonly host: MethodHost;
  readonly method: string;
  readonly kind: ModelKind;
}

/**
 * Settings for the throwaway provider: a key and base URL given outright, so building it reads no
 * environment variable, and nothing is ever sent with it.
 */
const PROBE_SETTINGS = { apiKey: 'tollgate-probe', baseURL: 'http://127.0.0.1/tollgate-probe' };
const PROBE_MODEL_ID = 'tollgate-probe';

/** The package's provider factory, as a named export or on the ESM `default`. */
export function providerFactory(pkg: ProviderPackage, moduleExports: ProviderModule): unknown {
  const fromDefault = moduleExports.default as ProviderModule | undefined;
  return moduleExports[pkg.factoryExport] ?? fromDefault?.[pkg.factoryExport];
}

/**
 * The model classes' prototype methods of one loaded copy of a provider package. The classes are
 * not exported, so a throwaway provider builds one model of each (no request, no key read) and
 * its prototype is where every model of that class gets its methods.
 */
export function modelMethodHosts(pkg: ProviderPackage, factory: unknown): ModelMethodHost[] {
  if (typeof factory !== 'function') return [];
  let provider: Record<string, unknown>;
  try {
    provider = factory(PROBE_SETTINGS) as Record<string, unknown>;
  } catch {
    return [];
  }
  const hosts: ModelMethodHost[] = [];
  for (const [name, kind] of pkg.models) {
    const create = provider?.[name];
    if (typeof create !== 'function') continue;
    let model: unknown;
    try {
      model = create(PROBE_MODEL_ID);
    } catch {
      continue;
    }
    if (typeof model !== 'object' || model === null) continue;
    for (const method of GATED_METHODS[kind]) {
      const host = methodHost(Object.getPrototypeOf(model) as object, method);
      if (host && !hosts.some((seen) => seen.host === host && seen.method === method))
        hosts.push({ host, method, kind });
    }
  }
  return hosts;
}
