import { BedrockRuntimeClient, type BedrockRuntimeClientConfig } from '@aws-sdk/client-bedrock-runtime';

/** Bedrock clients for tests, each destroyed (its HTTP/2 session closed) by `destroyAll()`. */
export function bedrockClients(endpoint: () => string) {
  const made: BedrockRuntimeClient[] = [];
  return {
    /** The SDK's default (HTTP/2) handler, static fake credentials, no retries unless asked. */
    create(config: Partial<BedrockRuntimeClientConfig> = {}): BedrockRuntimeClient {
      const client = new BedrockRuntimeClient({
        region: 'us-east-1',
        endpoint: endpoint(),
        credentials: { accessKeyId: 'AKIDMOCK', secretAccessKey: 'mock-secret' },
        maxAttempts: 1,
        ...config,
      });
      made.push(client);
      return client;
    },
    destroyAll(): void {
      for (const client of made.splice(0)) client.destroy();
    },
  };
}

/** The raw response headers of every call, which the SDK's InvokeModel output does not model. */
export function captureHeaders(client: BedrockRuntimeClient): Record<string, string> {
  const seen: Record<string, string> = {};
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      Object.assign(seen, (result.response as { headers: Record<string, string> }).headers);
      return result;
    },
    { step: 'deserialize', name: 'captureHeaders' },
  );
  return seen;
}
