import { expectRecord, TollgateConfigError } from '@tollgate/core';
import type { ClientLike } from './internal-types';

/** Deployment names mapped to the priced models they serve, as `OpenAIInstrumentationConfig.deployments`. */
export type Deployments = Readonly<Record<string, string>>;

/**
 * Checks the `deployments` option: an object of non-empty model names.
 *
 * @throws {TollgateConfigError} Naming the path, e.g. `instrumentations.openai.deployments["prod-gpt4o"]`.
 */
export function checkDeployments(value: unknown, path: string): void {
  if (value === undefined) return;
  for (const [deployment, model] of Object.entries(expectRecord(value, path))) {
    if (typeof model !== 'string' || model.trim() === '') {
      throw new TollgateConfigError(
        `${path}[${JSON.stringify(deployment)}]`,
        'must be the name of a priced model, e.g. "gpt-4o"',
        model,
      );
    }
  }
}

/** `AzureOpenAI` sets both; the plain `OpenAI` client has neither. */
export function isAzureClient(client: ClientLike): boolean {
  return typeof client.apiVersion === 'string' && 'deploymentName' in client;
}

const DEPLOYMENT_IN_URL = /\/deployments\/([^/?#]+)/;

/**
 * The deployment an Azure request goes to, as the SDK routes it: one in the base URL wins, then
 * the client's `deployment` option, then the body's `model`.
 */
export function deploymentOf(client: ClientLike, bodyModel: string): string {
  const inUrl = client.baseURL === undefined ? undefined : DEPLOYMENT_IN_URL.exec(client.baseURL)?.[1];
  if (inUrl !== undefined) {
    try {
      return decodeURIComponent(inUrl);
    } catch {
      return inUrl;
    }
  }
  return client.deploymentName || bodyModel;
}

/** The priced model a deployment serves, when configured. */
export function deployedModel(deployments: Deployments | undefined, deployment: string): string | undefined {
  return deployments !== undefined && Object.hasOwn(deployments, deployment)
    ? deployments[deployment]
    : undefined;
}

/** A deployment serving `model`, for a fallback rule's substitute; the model's own name when none is configured. */
export function deploymentFor(deployments: Deployments | undefined, model: string): string {
  if (deployments === undefined) return model;
  const found = Object.entries(deployments).find(([, served]) => served === model);
  return found ? found[0] : model;
}
