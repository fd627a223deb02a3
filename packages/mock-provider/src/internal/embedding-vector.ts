/**
 * A deterministic unit vector for `text`: a FNV-1a hash seeds a xorshift generator. Values are
 * rounded to float32 so the JSON floats and the base64 float32 bytes decode to the same numbers.
 */
export function embeddingVector(text: string, dimensions: number): Float32Array {
  let seed = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    seed ^= text.charCodeAt(index);
    seed = Math.imul(seed, 0x01000193);
  }
  let state = seed >>> 0 || 1;
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let index = 0; index < dimensions; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const value = state / 0x80000000 - 1;
    vector[index] = value;
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let index = 0; index < dimensions; index++) vector[index] = (vector[index] ?? 0) * scale;
  return vector;
}

/** Little-endian float32 bytes as base64, the format of `encoding_format: 'base64'`. */
export function float32Base64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}
