#!/usr/bin/env node
/** The `das` command: one subcommand per file in ./commands. */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../package-info.js';
import { doctorCommand } from './commands/doctor.js';
import { dataCommand } from './commands/data.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { flopsCommand } from './commands/flops.js';
import { predictCommand } from './commands/predict.js';
import { reportCommand } from './commands/report.js';
import { searchCommand } from './commands/search.js';
import { trainCommand } from './commands/train.js';
import { ExitCode, printJson, reportError } from './output.js';

export function buildProgram(): Command {
  const program = new Command('das')
    .description('DAS (Dynamic Architecture Skipping) for ViLT, METER and RoBERTa on libtorch')
    .version(packageVersion)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.addCommand(doctorCommand());
  program.addCommand(flopsCommand());
  program.addCommand(searchCommand());
  program.addCommand(trainCommand());
  program.addCommand(evalCommand());
  program.addCommand(predictCommand());
  program.addCommand(exportCommand());
  program.addCommand(dataCommand());
  program.addCommand(reportCommand());
  program.addCommand(demoCommand());
  const all = (command: Command): Command[] => [command, ...command.commands.flatMap(all)];
  for (const command of all(program)) command.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Whether the command line asks for the JSON contract (before a `--` that ends the options). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

export async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? ExitCode.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; every other parse error is a usage error, which commander has
      // already explained on stderr; with --json the last stdout line still is a JSON object
      if (error.exitCode === 0) return ExitCode.ok;
      if (json) printJson({ error: { code: 'DAS_INVALID_ARGUMENT', message: error.message.replace(/^error: /, '') } });
      return ExitCode.usage;
    }
    reportError(error, { json });
    return Number(process.exitCode);
  }
}

process.exitCode = await main(process.argv.slice(2));
