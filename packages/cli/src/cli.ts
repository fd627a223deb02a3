#!/usr/bin/env node
import { TollgateConfigError } from '@tollgate/core';
import { CommanderError } from 'commander';
import { CliError, EXIT_PROBLEM, EXIT_USAGE } from './cli-error';
import { colorsFor } from './output/colors';
import { buildProgram } from './program';

// `tollgate prices | head`: a reader that stops early is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const colors = colorsFor(process.stdout);
const errorColors = colorsFor(process.stderr);
const write = (line: string) => void process.stdout.write(`${line}\n`);

/** Every failure becomes one line on stderr and an exit code; stacks only with TOLLGATE_DEBUG=1. */
function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed its message (or the help) already.
    return error.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CliError) {
    process.stderr.write(`${errorColors.red('error:')} ${message}\n`);
    return error.exitCode;
  }
  if (TollgateConfigError.isInstance(error)) {
    process.stderr.write(`${errorColors.red('error:')} ${message}\n`);
    return EXIT_PROBLEM;
  }
  process.stderr.write(`${errorColors.red('error:')} ${message}\n`);
  if (process.env.TOLLGATE_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return EXIT_PROBLEM;
}

async function main(): Promise<void> {
  try {
    await buildProgram(colors, write).parseAsync(process.argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  }
  // Whatever a library left open (a reconnect timer, a socket) must not keep the command alive.
  setTimeout(() => process.exit(), 500).unref();
}

void main();
