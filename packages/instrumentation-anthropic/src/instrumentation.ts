import {
  emitTollgateWarning,
  hasForeignWrapper,
  hasOwnWrapper,
  type LoadedSdk,
  type MethodHost,
  type SdkDescription,
  type SdkTarget,
  TollgateInstrumentation,
} from '@tollgate/core/instrumentation';
import { deferredHelperSpan, gatedCreate } from './gated-create';
import { gatedMessagesPost } from './gated-post';
import type { AnthropicClass } from './internal-types';
import type { AnthropicInstrumentationConfig, SdkSpanMode } from './types';

const PACKAGE_NAME = '@tollgate/instrumentation-anthropic';
/**
 * `@anthropic-ai/sdk` versions this package supports; others get a warning and are left alone.
 * From 0.50 on, the SDK has the layout this package patches: `APIPromise(client, responsePromise,
 * parseResponse)`, `Stream.iterator`, `fetchWithTimeout` on the client class, `Messages` and
 * `Beta.Messages` hanging off it.
 */
export const SUPPORTED_ANTHROPIC_RANGE = '>=0.50 <2';

/** Whether `version` (`major.minor.patch`, prerelease allowed) falls within {@link SUPPORTED_ANTHROPIC_RANGE}. */
export function isSupportedAnthropicVersion(version: string): boolean {
  const [major, minor] = version.split('.').map((part) => Number.parseInt(part, 10));
  if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) return false;
  return (major === 0 && minor >= 50) || major === 1;
}

const SDK_SPAN_MODES: readonly SdkSpanMode[] = ['nest', 'suppress'];

const ANTHROPIC_SDK: SdkDescription = {
  packageName: PACKAGE_NAME,
  packageVersion: '0.1.0',
  className: 'AnthropicInstrumentation',
  moduleName: '@anthropic-ai/sdk',
  clientExport: 'Anthropic',
  supportedRange: SUPPORTED_ANTHROPIC_RANGE,
  isSupportedVersion: isSupportedAnthropicVersion,
  configPath: 'instrumentations.anthropic',
  // Suppressed by default: the SDK's span repeats gen_ai.usage.*, so span-based token sums would count twice.
  options: { sdkSpans: { oneOf: SDK_SPAN_MODES, default: 'suppress' } },
};

/** The resources whose `create()` and `stream()` are gated, by the name warnings give them. */
function messageResources(Anthropic: AnthropicClass): Array<[string, MethodHost | undefined]> {
  return [
    ['Messages', Anthropic.Messages?.prototype],
    ['Beta.Messages', Anthropic.Beta?.Messages?.prototype],
  ];
}

/** What to tell a user who has another instrumentation on `create()` about the double record. */
const TURN_ONE_OFF =
  "To keep only Tollgate's span, turn the other instrumentation off; the SDK's own span is off with " +
  "sdkSpans: 'suppress', or for the whole client with new Anthropic({ openTelemetry: false }) / ANTHROPIC_OPEN_TELEMETRY=false.";

/**
 * Gates, traces and costs every Messages call made with `@anthropic-ai/sdk` (CommonJS and ESM):
 * `messages.create()` and `beta.messages.create()`, and through them `stream()`, `parse()` and
 * the tool runners.
 *
 * @example
 * ```ts
 * registerInstrumentations({ instrumentations: [new AnthropicInstrumentation({ guard })] });
 * ```
 */
export class AnthropicInstrumentation extends TollgateInstrumentation<
  AnthropicInstrumentationConfig,
  AnthropicClass
> {
  /** Another instrumentation's removal of the create() wrapper has been reported: calls stop looking. */
  private createWrapperLossNoticed = false;

  constructor(config: AnthropicInstrumentationConfig) {
    super(ANTHROPIC_SDK, config);
  }

  protected override targets({ client: Anthropic, APIPromise }: LoadedSdk<AnthropicClass>): SdkTarget[] {
    const gate = () => this.gate();
    const config = () => this.getConfig();
    return [
      // The gate proper: on create(), so the SDK's own span can be nested or suppressed. Stacked over
      // any other instrumentation's wrapper, never removing it.
      ...messageResources(Anthropic).flatMap(([resource, prototype]): SdkTarget[] => [
        {
          name: `${resource}.create`,
          prototype,
          method: 'create',
          wrap: (original) => gatedCreate(original as never, gate, config, APIPromise) as never,
        },
        {
          name: `${resource}.stream`,
          prototype,
          method: 'stream',
          wrap: (original) => deferredHelperSpan(original as never, gate) as never,
        },
      ]),
      // The floor: every Messages request passes the client's post(), which no other instrumentation
      // wraps, so the gate holds even when another one takes Tollgate's create() wrapper off.
      {
        name: 'post',
        prototype: Anthropic.prototype,
        method: 'post',
        required: true,
        wrap: (original) =>
          gatedMessagesPost(original as never, {
            gate,
            config,
            APIPromise,
            onUngatedCreate: () => this.noticeCreateWrapperLost(Anthropic),
          }),
      },
    ];
  }

  protected override patched({ client }: LoadedSdk<AnthropicClass>): void {
    for (const [resource, host] of messageResources(client)) {
      if (host && hasForeignWrapper(host, 'create', PACKAGE_NAME))
        this.noticeOtherWrapper(resource, 'registered');
    }
  }

  /** Says so, once, when another instrumentation wraps a `create()` this one gates: each call is recorded by both. */
  private noticeOtherWrapper(resource: string, when: 'registered' | 'replaced'): void {
    emitTollgateWarning(
      'TOLLGATE_OTHER_INSTRUMENTATION',
      `${PACKAGE_NAME}: another instrumentation also wraps @anthropic-ai/sdk ${resource}.create` +
        (when === 'replaced'
          ? " and has taken Tollgate's wrapper off it; calls are still gated, at the client's post(), with Tollgate's span under the SDK's own. "
          : '. Calls stay gated by Tollgate, and each one is recorded by both. ') +
        TURN_ONE_OFF,
    );
  }

  /** A Messages request reached post() without passing Tollgate's create(): find out which wrapper went missing. */
  private noticeCreateWrapperLost(Anthropic: AnthropicClass): void {
    if (this.createWrapperLossNoticed) return;
    for (const [resource, host] of messageResources(Anthropic)) {
      if (!host || typeof host.create !== 'function' || hasOwnWrapper(host, 'create', PACKAGE_NAME)) continue;
      this.createWrapperLossNoticed = true;
      this.noticeOtherWrapper(resource, 'replaced');
    }
  }
}
