import path from 'node:path';
import { Command } from 'commander';
import { writeReport } from '../../report/report.js';
import { printJson, reportError } from '../output.js';

interface ReportFlags {
  out?: string;
  json?: boolean;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write report.md and a self-contained report.html (gate probabilities over the search, rewards, losses, and a table in the paper\'s layout) for run directories')
    .argument('<run-dir...>', 'search and training run directories')
    .option('--out <dir>', 'where to write the report (default: the run directory when there is one, else ./das-report)')
    .option('--json', 'print the written paths as one JSON object on the last line of stdout')
    .action((runDirs: string[], flags: ReportFlags) => {
      try {
        const out = flags.out ?? (runDirs.length === 1 ? runDirs[0]! : 'das-report');
        const files = writeReport(runDirs, out);
        if (flags.json) printJson({ markdown: path.resolve(files.markdown), html: path.resolve(files.html), charts: files.charts.map((c) => path.resolve(c)) });
        else process.stdout.write(`report: ${path.resolve(files.html)}\n        ${path.resolve(files.markdown)}\n`);
      } catch (error) {
        reportError(error, flags);
      }
    });
}
