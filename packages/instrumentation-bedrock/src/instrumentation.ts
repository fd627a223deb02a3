import {
  type LoadedSdk,
  type SdkDescription,
  type SdkTarget,
  TollgateInstrumentation,
} from '@tollgate/core/instrumentation';
import { gatedSend } from './gated-send';
import type { BedrockClientClass } from './internal-types';
import type { BedrockInstrumentationConfig } from './types';

const PACKAGE_NAME = '@tollgate/instrumentation-bedrock';
/**
 * `@aws-sdk/client-bedrock-runtime` versions this package supports; others get a warning and are
 * left alone. From 3.1178 on (tested there), commands carry their operation schema
 * (`command.schema`) and `send()` is @smithy/core's `Client.prototype.send`.
 */
export const SUPPORTED_BEDROCK_RANGE = '>=3.1178 <4';

/** Whether `version` (`major.minor.patch`, prerelease allowed) falls within {@link SUPPORTED_BEDROCK_RANGE}. */
export function isSupportedBedrockVersion(version: string): boolean {
  const [major, minor] = version.split('.').map((part) => Number.parseInt(part, 10));
  if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) return false;
  return major === 3 && minor >= 1178;
}

const BEDROCK_SDK: SdkDescription = {
  packageName: PACKAGE_NAME,
  packageVersion: '0.1.0',
  className: 'BedrockInstrumentation',
  moduleName: '@aws-sdk/client-bedrock-runtime',
  clientExport: 'BedrockRuntimeClient',
  supportedRange: SUPPORTED_BEDROCK_RANGE,
  isSupportedVersion: isSupportedBedrockVersion,
  configPath: 'instrumentations.bedrock',
};

type ModuleExports = Record<string, unknown>;

/**
 * The kit resolves a Stainless SDK's client and `APIPromise`. The AWS SDK has no `APIPromise`:
 * `send()` returns a native promise, so the kit is handed the client class with `Promise` in that
 * slot (this package never builds one), and the module itself is returned untouched.
 */
function kitView(moduleExports: unknown): ModuleExports {
  const exports = (moduleExports ?? {}) as ModuleExports;
  const fromDefault = exports.default as ModuleExports | undefined;
  const client = exports.BedrockRuntimeClient ?? fromDefault?.BedrockRuntimeClient;
  return client ? { BedrockRuntimeClient: client, APIPromise: Promise } : {};
}

/**
 * Gates, traces and costs every Converse, ConverseStream, InvokeModel and
 * InvokeModelWithResponseStream call made with `@aws-sdk/client-bedrock-runtime`, through
 * `BedrockRuntimeClient.send()` (and so the `BedrockRuntime` aggregated client's methods).
 *
 * @example
 * ```ts
 * registerInstrumentations({ instrumentations: [new BedrockInstrumentation({ guard })] });
 * ```
 */
export class BedrockInstrumentation extends TollgateInstrumentation<
  BedrockInstrumentationConfig,
  BedrockClientClass
> {
  constructor(config: BedrockInstrumentationConfig) {
    super(BEDROCK_SDK, config);
  }

  protected override targets({ client }: LoadedSdk<BedrockClientClass>): SdkTarget[] {
    return [
      {
        // Defined on @smithy/core's Client, shared by every AWS client of that copy: the wrapper
        // reads only Bedrock Runtime's commands and hands every other straight to the original.
        name: 'send',
        prototype: client.prototype,
        method: 'send',
        required: true,
        wrap: (original) =>
          gatedSend(
            original as never,
            () => this.gate(),
            () => this.getConfig(),
          ),
      },
    ];
  }

  protected override init() {
    const definitions = super.init();
    for (const definition of definitions) {
      const { patch, unpatch } = definition;
      definition.patch = (moduleExports: ModuleExports, moduleVersion?: string) => {
        patch?.(kitView(moduleExports), moduleVersion);
        return moduleExports;
      };
      definition.unpatch = (moduleExports: ModuleExports, moduleVersion?: string) => {
        unpatch?.(kitView(moduleExports), moduleVersion);
      };
    }
    return definitions;
  }

  override instrument(moduleExports: unknown): void {
    super.instrument(kitView(moduleExports));
  }

  override uninstrument(moduleExports: unknown): void {
    super.uninstrument(kitView(moduleExports));
  }
}
