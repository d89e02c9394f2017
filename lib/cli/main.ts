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
import { ExitCode } from './output.js';

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

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? ExitCode.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; every other parse error is a usage error
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
