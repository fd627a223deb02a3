/** ANSI sequences for a full-screen view that leaves the terminal as it found it. */
const ENTER_ALTERNATE = '\x1b[?1049h';
const LEAVE_ALTERNATE = '\x1b[?1049l';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

/**
 * Redraws a frame every `intervalMillis` like `top`: on a terminal, in the alternate screen from
 * the top-left corner; elsewhere each frame is printed after the last. Ctrl-C (SIGINT) or SIGTERM
 * restores the screen and cursor and exits 0. A frame that fails shows its error and the next
 * refresh tries again.
 */
export async function watchLoop(
  intervalMillis: number,
  frame: () => Promise<string>,
  stream: NodeJS.WriteStream = process.stdout,
): Promise<never> {
  const tty = stream.isTTY === true;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (tty) stream.write(SHOW_CURSOR + LEAVE_ALTERNATE);
  };
  const quit = () => {
    restore();
    process.exit(0);
  };
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  process.once('exit', restore);
  if (tty) stream.write(ENTER_ALTERNATE + HIDE_CURSOR);
  for (;;) {
    const text = await frame();
    if (tty) {
      const lines = text.split('\n').map((line) => line + CLEAR_LINE_END);
      stream.write(HOME + lines.join('\n') + CLEAR_BELOW);
    } else {
      stream.write(`${text}\n\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMillis));
  }
}
