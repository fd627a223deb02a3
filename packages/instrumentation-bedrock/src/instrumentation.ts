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
  // `send()` returns a native promise: there is no APIPromise class to find.
  plainPromises: true,
};

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

  /** Converse and InvokeModel replies are replayed from the response cache in the attempt middleware. */
  protected override patched(): void {
    this.replaysCachedReplies();
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
}
