const MAX_DEPTH = 8;

/**
 * The smallest plain value that satisfies the common parts of a JSON schema: every listed
 * property, the first enum/const/anyOf option, `minimum`, `minItems`, local `$ref`s. Enough for
 * structured outputs and tool arguments to parse; not a validator.
 */
export function sampleFromSchema(schema: unknown): unknown {
  return sample(schema, schema, 0);
}

function sample(schema: unknown, root: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH || !isRecord(schema)) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (typeof schema.$ref === 'string') return sample(resolveRef(schema.$ref, root), root, depth + 1);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      const usable = options.find((option) => !(isRecord(option) && option.type === 'null')) ?? options[0];
      return sample(usable, root, depth + 1);
    }
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? 'null') : schema.type;
  switch (type) {
    case 'string':
      return typeof schema.format === 'string' && schema.format === 'date' ? '2026-01-01' : 'hello';
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array': {
      const length = typeof schema.minItems === 'number' ? schema.minItems : 0;
      return Array.from({ length }, () => sample(schema.items, root, depth + 1));
    }
    default: {
      if (type !== 'object' && !isRecord(schema.properties)) return null;
      const result: Record<string, unknown> = {};
      if (isRecord(schema.properties)) {
        for (const [name, property] of Object.entries(schema.properties)) {
          result[name] = sample(property, root, depth + 1);
        }
      }
      return result;
    }
  }
}

function resolveRef(ref: string, root: unknown): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const segment of ref.slice(1).split('/').filter(Boolean)) {
    if (!isRecord(node)) return undefined;
    node = node[decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits JSON text into the pieces the mock streams and bills as one token each. */
export function jsonPieces(json: string): string[] {
  return json.match(/[A-Za-z0-9_]+|[^A-Za-z0-9_]+/g) ?? [];
}
