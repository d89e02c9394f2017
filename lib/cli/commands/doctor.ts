import { Command } from 'commander';
import { doctor, formatDoctor } from '../../doctor/doctor.js';
import { printJson, reportError } from '../output.js';

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('libtorch version and origin, attention kernel, CUDA (runtime, cuDNN, NCCL, GPUs), whether bf16 is fast here, the BLAS in use (measured), threads and build info')
    .option('--json', 'print the report as one JSON object on the last line of stdout')
    .action(async (options: { json?: boolean }) => {
      try {
        const report = await doctor();
        if (options.json) printJson(report);
        else process.stdout.write(`${formatDoctor(report)}\n`);
      } catch (error) {
        reportError(error, options);
      }
    });
}
