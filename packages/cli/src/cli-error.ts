/** Exit codes scripts and CI can rely on. */
export const EXIT_OK = 0;
/** The input is invalid, or the gate would refuse what it describes. */
export const EXIT_PROBLEM = 1;
/** The command line itself is wrong (unknown option, missing argument). */
export const EXIT_USAGE = 2;

/** An error the command reports as one clear line, with its exit code; never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_PROBLEM,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A mistake in how the command was called: exit code 2. */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}
