import {
  type LoadedSdk,
  type SdkDescription,
  type SdkTarget,
  TollgateInstrumentation,
} from '@tollgate/core/instrumentation';
import {
  type GateAccess,
  gatedEmbedContent,
  gatedGenerateContent,
  gatedGenerateContentStream,
} from './gated-request';
import type { ModelsClass } from './internal-types';
import type { GoogleGenAIInstrumentationConfig } from './types';

const PACKAGE_NAME = '@tollgate/instrumentation-google-genai';

/**
 * `@google/genai` versions this package supports; others get a warning and are left alone.
 * 2.x keeps the per-request methods this package patches (`generateContentInternal`,
 * `generateContentStreamInternal`, `embedContentInternal`) on `Models.prototype`.
 */
export const SUPPORTED_GOOGLE_GENAI_RANGE = '>=2 <3';

/** Whether `version` (`major.minor.patch`, prerelease allowed) falls within {@link SUPPORTED_GOOGLE_GENAI_RANGE}. */
export function isSupportedGoogleGenAIVersion(version: string): boolean {
  return Number.parseInt(version.split('.')[0] ?? '', 10) === 2;
}

const GOOGLE_GENAI_SDK: SdkDescription = {
  packageName: PACKAGE_NAME,
  packageVersion: '0.1.0',
  className: 'GoogleGenAIInstrumentation',
  moduleName: '@google/genai',
  clientExport: 'Models',
  supportedRange: SUPPORTED_GOOGLE_GENAI_RANGE,
  isSupportedVersion: isSupportedGoogleGenAIVersion,
  configPath: 'instrumentations.googleGenAI',
  plainPromises: true,
};

/**
 * Gates, traces and costs every Gemini request made with `@google/genai` (CommonJS and ESM,
 * Gemini API and Vertex AI): `models.generateContent()`, `models.generateContentStream()`, the
 * chats built on them, and `models.embedContent()`.
 *
 * The public methods are arrow functions made per client, out of reach of a prototype patch;
 * the gate sits on the per-request methods they all call, so each HTTP request (one call may
 * send several: automatic function calling, continuation) is gated before it is built and
 * settled from its own `usageMetadata`.
 *
 * @example
 * ```ts
 * registerInstrumentations({ instrumentations: [new GoogleGenAIInstrumentation({ guard })] });
 * ```
 */
export class GoogleGenAIInstrumentation extends TollgateInstrumentation<
  GoogleGenAIInstrumentationConfig,
  ModelsClass
> {
  constructor(config: GoogleGenAIInstrumentationConfig) {
    super(GOOGLE_GENAI_SDK, config);
  }

  protected override targets({ client: Models }: LoadedSdk<ModelsClass>): SdkTarget[] {
    const access: GateAccess = {
      gate: () => this.gate(),
      config: () => this.getConfig(),
      hookRequests: (apiClient) => this.hookRequests(apiClient, 'apiCall'),
    };
    return [
      {
        name: 'Models.generateContentInternal',
        prototype: Models.prototype,
        method: 'generateContentInternal',
        required: true,
        wrap: (original) => gatedGenerateContent(original as never, access) as never,
      },
      {
        name: 'Models.generateContentStreamInternal',
        prototype: Models.prototype,
        method: 'generateContentStreamInternal',
        required: true,
        wrap: (original) => gatedGenerateContentStream(original as never, access) as never,
      },
      {
        name: 'Models.embedContentInternal',
        prototype: Models.prototype,
        method: 'embedContentInternal',
        wrap: (original) => gatedEmbedContent(original as never, access) as never,
      },
    ];
  }
}
