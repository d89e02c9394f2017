/**
 * Progress of long work on stderr (stdout is for results): one live line with rate and ETA on a
 * terminal; on anything else (CI logs, cluster job files) a plain line now and then.
 */
import type { ProgressEvent } from '../train/loop.js';

const PLAIN_EVERY_MS = 30_000;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s % 60).padStart(2, '0')}`;
}

export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr): { onProgress: (e: ProgressEvent) => void; done: () => void } {
  const start = Date.now();
  let lastPlain = 0;
  let firstStep: { step: number; time: number } | undefined;
  let live = false;
  const tty = Boolean(stream.isTTY);
  const write = (line: string, keep: boolean) => {
    if (tty) {
      stream.write(`\r\x1b[2K${line}${keep ? '\n' : ''}`);
      live = !keep;
    } else {
      stream.write(`${line}\n`);
    }
  };
  return {
    onProgress(event) {
      const now = Date.now();
      if (event.phase === 'eval' && event.metrics) {
        const metrics = Object.entries(event.metrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', ');
        write(`${label}: epoch ${event.epoch + 1} evaluation: ${metrics}`, true);
        return;
      }
      if (event.phase !== 'train') return;
      firstStep ??= { step: event.step - 1, time: start };
      const rate = (event.step - firstStep.step) / Math.max(1e-3, (now - firstStep.time) / 1000);
      const eta = (event.totalSteps - event.step) / rate;
      const bar = `${'#'.repeat(Math.round((20 * event.step) / event.totalSteps)).padEnd(20, '.')}`;
      const line =
        `${label} [${bar}] step ${event.step}/${event.totalSteps} epoch ${event.epoch + 1}` +
        ` loss ${event.loss?.toFixed(4)} lr ${event.lr?.toExponential(2)} ${rate.toFixed(2)} step/s ETA ${duration(eta)}` +
        (event.skip?.length ? ` skip ${event.skip.join(',')}` : '');
      if (tty) write(line, false);
      else if (now - lastPlain >= PLAIN_EVERY_MS || event.step === event.totalSteps || event.step === 1) {
        write(line, false);
        lastPlain = now;
      }
    },
    done() {
      if (live) stream.write('\n');
      live = false;
    },
  };
}
