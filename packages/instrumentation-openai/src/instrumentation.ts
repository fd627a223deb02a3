import {
  emitTollgateWarning,
  hasForeignWrapper,
  type LoadedSdk,
  type MethodHost,
  type SdkDescription,
  type SdkTarget,
  TollgateInstrumentation,
} from '@tollgate/core/instrumentation';
import { checkDeployments } from './azure-deployments';
import { gatedCreate } from './gated-create';
import type { OpenAIClass } from './internal-types';
import type { OpenAIOperation } from './result-observers';
import type { OpenAIInstrumentationConfig } from './types';

const PACKAGE_NAME = '@tollgate/instrumentation-openai';
/** openai majors this package is tested against; others get a warning and are left alone. */
export const SUPPORTED_OPENAI_MAJORS = [5, 6, 7] as const;
export const SUPPORTED_OPENAI_RANGE = '>=5 <8';

const OPENAI_SDK: SdkDescription = {
  packageName: PACKAGE_NAME,
  packageVersion: '0.1.0',
  className: 'OpenAIInstrumentation',
  moduleName: 'openai',
  clientExport: 'OpenAI',
  supportedRange: SUPPORTED_OPENAI_RANGE,
  isSupportedVersion: (version) =>
    (SUPPORTED_OPENAI_MAJORS as readonly number[]).includes(Number(version.split('.')[0])),
  configPath: 'instrumentations.openai',
  options: { includeStreamUsage: { type: 'boolean' } },
};

/** The resource class whose `create()` posts each gated operation's request. */
function resourceOf(
  OpenAI: OpenAIClass,
  operation: OpenAIOperation,
): { name: string; prototype?: MethodHost } {
  switch (operation) {
    case 'chat':
      return { name: 'Chat.Completions', prototype: OpenAI.Chat?.Completions?.prototype };
    case 'responses':
      return { name: 'Responses', prototype: OpenAI.Responses?.prototype };
    case 'embeddings':
      return { name: 'Embeddings', prototype: OpenAI.Embeddings?.prototype };
    default:
      return { name: 'Completions', prototype: OpenAI.Completions?.prototype };
  }
}
const OPERATIONS: readonly OpenAIOperation[] = ['chat', 'responses', 'embeddings', 'text_completion'];

/**
 * Gates, traces and costs every call made with the `openai` SDK (CommonJS and ESM).
 *
 * @example
 * ```ts
 * registerInstrumentations({ instrumentations: [new OpenAIInstrumentation({ guard })] });
 * ```
 */
export class OpenAIInstrumentation extends TollgateInstrumentation<OpenAIInstrumentationConfig, OpenAIClass> {
  /** Another instrumentation's wrapper of create() has been reported: calls stop looking for one. */
  private otherWrapperNoticed = false;

  constructor(config: OpenAIInstrumentationConfig) {
    super(OPENAI_SDK, config);
  }

  /** Also checks `deployments`, naming its path in the `TollgateConfigError`. */
  override setConfig(config: OpenAIInstrumentationConfig): void {
    checkDeployments(
      (config as { deployments?: unknown } | undefined)?.deployments,
      `${OPENAI_SDK.configPath}.deployments`,
    );
    super.setConfig(config);
  }

  /** The gate sits on the client's post(), which other instrumentations leave alone (see gated-create.ts). */
  protected override targets({ client: OpenAI, APIPromise }: LoadedSdk<OpenAIClass>): SdkTarget[] {
    const wrap = (original: unknown) =>
      gatedCreate(original as never, {
        gate: () => this.gate(),
        config: () => this.getConfig(),
        APIPromise,
        // One property read per call: the full check runs only once this resource's create() is wrapped.
        onGatedCall: (operation) => {
          if (this.otherWrapperNoticed) return;
          if (hasForeignWrapper(resourceOf(OpenAI, operation).prototype, 'create', PACKAGE_NAME)) {
            this.noticeOtherWrapper(OpenAI);
          }
        },
      });
    return [{ name: 'post', prototype: OpenAI.prototype, method: 'post', required: true, wrap }];
  }

  protected override patched({ client }: LoadedSdk<OpenAIClass>): void {
    this.noticeOtherWrapper(client);
  }

  /**
   * Says so, once, when another instrumentation wraps the resources' `create()`: the gate still
   * holds (it is on `post()`), and each call is recorded by both. Checked at patch time and again
   * at calls, since the other may be registered after this one.
   */
  private noticeOtherWrapper(OpenAI: OpenAIClass): void {
    const wrapped = OPERATIONS.map((operation) => resourceOf(OpenAI, operation))
      .filter((resource) => hasForeignWrapper(resource.prototype, 'create', PACKAGE_NAME))
      .map((resource) => `${resource.name}.create`);
    if (wrapped.length === 0) return;
    this.otherWrapperNoticed = true;
    emitTollgateWarning(
      'TOLLGATE_OTHER_INSTRUMENTATION',
      `${PACKAGE_NAME}: another instrumentation also wraps openai ${wrapped.join(', ')} (e.g. @opentelemetry/instrumentation-openai). ` +
        'Calls stay gated by Tollgate, and each one is recorded by both: a Tollgate span and the other span. ' +
        "To keep only Tollgate's, turn the other off (for the OpenTelemetry one: OTEL_NODE_DISABLED_INSTRUMENTATIONS=openai, " +
        "or getNodeAutoInstrumentations({ '@opentelemetry/instrumentation-openai': { enabled: false } })).",
    );
  }
}
