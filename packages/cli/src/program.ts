import { Command, Option } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { checkCommand } from './commands/check';
import { estimateCommand } from './commands/estimate';
import { pricesCommand } from './commands/prices';
import { statusCommand } from './commands/status';
import { OPERATIONS, PROVIDERS } from './estimate/detect-call';
import type { Colors } from './output/colors';

const EXIT_CODES = `
Exit codes:
  0  ok
  1  invalid input, or a problem the gate would refuse a call for (unpriced model, invalid config)
  2  usage error (unknown option, missing argument)`;

/** The `tollgate` command line; each action sets `process.exitCode`. */
export function buildProgram(colors: Colors, write: (line: string) => void): Command {
  const program = new Command('tollgate')
    .description(
      'Check a Tollgate config, see what a request will cost before it is sent, list prices, and watch budgets.',
    )
    .version(packageJson.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `${EXIT_CODES}\n\nColours are used only on a terminal; NO_COLOR turns them off.`);

  program
    .command('check')
    .summary('validate a config file and explain what it means')
    .description(
      'Validate a TOLLGATE_CONFIG file (JSON or YAML) exactly as the app would load it, and explain it: ' +
        'budgets with their windows and next reset in their time zone, rate limits, rules, prices. ' +
        'Warns about unpriced models named in the config and a stale price table.',
    )
    .argument('<file>', 'the config file (.yaml/.yml is YAML, anything else JSON)')
    .option('--strict', 'exit 1 on warnings too')
    .addHelpText('after', `\nExample:\n  tollgate check tollgate.yaml\n${EXIT_CODES}`)
    .action(async (file: string, options: { strict?: boolean }) => {
      process.exitCode = await checkCommand(file, options, colors, write);
    });

  program
    .command('estimate')
    .summary("the gate's input estimate and worst-case cost of a request body")
    .description(
      "The gate's estimate for a request body (as the SDK sends it): input tokens and how they were counted, " +
        'the output tokens it reserves and why, and the worst-case cost a USD budget reserves. ' +
        'Provider and operation are read from the model and the body unless given.',
    )
    .argument('<request>', 'a JSON file with the request body, or - for standard input')
    .addOption(new Option('--provider <name>', 'the provider').choices([...PROVIDERS, 'gemini']))
    .addOption(new Option('--operation <name>', 'the API operation').choices([...OPERATIONS]))
    .option('--model <name>', 'the model, instead of the body\'s "model"')
    .option(
      '--config <file>',
      'a TOLLGATE_CONFIG file: price overrides, defaultMaxOutputTokens, unknownModel, estimator',
    )
    .option('--json', 'print the estimate as JSON')
    .addHelpText(
      'after',
      `\nExamples:\n  tollgate estimate request.json\n  echo '{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hi"}]}' | tollgate estimate -\n  tollgate estimate --provider openai --operation responses body.json\n\nGemini request bodies are not supported yet.\n${EXIT_CODES}`,
    )
    .action(async (request: string, options) => {
      process.exitCode = await estimateCommand(request, options, colors, write);
    });

  program
    .command('prices')
    .summary('the price table, and how model names resolve')
    .description(
      'The price table the gate uses (USD per 1M tokens, with its checked date and sources), or how each ' +
        'named model resolves: snapshot names and aliases map to a priced model.',
    )
    .argument('[model...]', 'model names to resolve, e.g. gpt-4o-2024-08-06')
    .option('--config <file>', 'a TOLLGATE_CONFIG file whose price overrides apply')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `\nExamples:\n  tollgate prices\n  tollgate prices gpt-4o-2024-08-06 claude-sonnet-4-5-20250929\n${EXIT_CODES}`,
    )
    .action(async (models: string[], options) => {
      process.exitCode = await pricesCommand(models, options, colors, write);
    });

  program
    .command('status')
    .summary('budgets from the Redis ledger or Prometheus, most used first')
    .description(
      'Every budget instance of the current windows, most used first: limit, spent, reserved, share used, ' +
        'time to reset, and the spend projected to the end of the window at the rate so far. ' +
        'Reads the Redis ledger, or Prometheus for apps that keep budgets in memory and export metrics.',
    )
    .option('--redis <url>', 'Redis URL of the ledger (default: $TOLLGATE_REDIS_URL)')
    .option(
      '--key-prefix <prefix>',
      'the ledger\'s keyPrefix (default: @tollgate/redis\'s default, "tollgate")',
    )
    .option(
      '--prometheus <url>',
      'read tollgate_budget_limit/spent/reserved from this Prometheus server instead',
    )
    .option('--config <file>', 'a TOLLGATE_CONFIG file: configured limits and windows, budgets not used yet')
    .option('--json', 'print as JSON')
    .option('--watch [seconds]', 'refresh in place every few seconds (default 2) until Ctrl-C')
    .addHelpText(
      'after',
      `\nExamples:\n  tollgate status --redis redis://localhost:6380 --config tollgate.yaml\n  tollgate status --watch 5\n  tollgate status --prometheus http://prometheus:9090 --config tollgate.yaml --json\n\nWithout --config, Prometheus readings have no window, so no reset time or projection.\n${EXIT_CODES}`,
    )
    .action(async (options) => {
      process.exitCode = await statusCommand(options, colors, write);
    });

  return program;
}
