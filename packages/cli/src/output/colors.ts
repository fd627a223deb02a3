import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

/**
 * Colours for one output stream: only when it is a terminal, and never when `NO_COLOR` is set
 * (https://no-color.org) or `TERM=dumb`; `FORCE_COLOR` (non-empty, not `0`) turns them on anyway.
 */
export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0';
  const disabled = (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb';
  return picocolors.createColors(forced || (!disabled && stream.isTTY === true));
}
