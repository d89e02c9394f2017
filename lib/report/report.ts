/**
 * `das report`: report.md and a self-contained report.html (inline SVG, no scripts, nothing
 * fetched) over one or more run directories: for each search, the gate probability of every
 * candidate layer over the search, rewards and losses, and the choices; a table across runs
 * in the paper's layout, DAS next to random sampling; and, over training runs of different methods,
 * the paper's Table C layout (method, updated parameters, additional FLOPs, a metric per task).
 */
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { readRunSummary, type RunSummary } from './run-summary.js';
import { lineChart } from './svg-chart.js';

export interface ReportFiles {
  markdown: string;
  html: string;
  charts: string[];
  runs: RunSummary[];
}

interface Chart {
  file: string;
  title: string;
  svg: string;
}

const percent = (value: number) => `${(100 * value).toFixed(2)}`;
const gflops = (value: number) => `${value >= 0 ? '+' : ''}${Math.abs(value) >= 1e8 ? `${(value / 1e9).toFixed(2)}G` : `${(value / 1e6).toFixed(2)}M`}`;
const millions = (value: number) => (value >= 1e5 ? `${(value / 1e6).toFixed(2)}M` : `${(value / 1e3).toFixed(1)}K`);

const METRICS = ['accuracy', 'vqaScore', 'groupAccuracy', 'irR1'];

/** The run's main metric: its name and value. */
function mainValue(run: RunSummary): { key: string; value: number } | undefined {
  const key = METRICS.find((k) => run.metrics?.[k] !== undefined);
  return key ? { key, value: run.metrics![key]! } : undefined;
}

function performance(run: RunSummary): string {
  if (!run.metrics) return run.method === 'DAS search' ? '-' : run.finished ? '?' : '(unfinished)';
  const main = mainValue(run);
  return main ? `${percent(main.value)} (${main.key})` : '?';
}

function tableRows(runs: RunSummary[]): string[][] {
  const rows = runs.map((run) => [
    run.method,
    run.config.architecture,
    run.config.task,
    run.config.search?.scope ?? 'global',
    String(run.skipped.length),
    performance(run),
    gflops(run.additionalFlops),
    millions(run.updatedParams),
    run.skipped.join(', ') || '-',
    path.basename(run.dir),
  ]);
  const random = runs.filter((r) => r.method === 'random sampling' && mainValue(r) !== undefined);
  if (random.length > 1) {
    const values = random.map((r) => mainValue(r)!.value);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    rows.push(['random sampling (mean ± std)', random[0]!.config.architecture, random[0]!.config.task, 'global', String(random[0]!.skipped.length), `${percent(mean)} ± ${percent(std)} (${mainValue(random[0]!)!.key}, ${values.length} seeds)`, '', '', '', '']);
  }
  return rows;
}

const HEADER = ['Method', 'Model', 'Task', 'Candidates', '# skipped', 'Performance', 'Additional FLOPs', 'Updated params', 'Skipped layers', 'Run'];

/** A training run's row label in the methods table: the method, and how its skipped layers were chosen. */
function methodLabel(run: RunSummary): string {
  const name = run.methodConfig.name === 'das' ? 'DAS' : run.methodConfig.name;
  if (run.method === 'random sampling') return `${name} (random skip)`;
  if (run.methodConfig.name !== 'das' && run.skipped.length) return `${name} + DAS skip`;
  return name;
}

/**
 * The paper's Table C: one row per model, method and skipped set, one column per task (the main
 * metric; the mean over runs that share a row, e.g. seeds), with updated parameters (full tuning:
 * the whole model) and additional FLOPs. Empty without finished training runs.
 */
function methodTable(runs: RunSummary[]): { header: string[]; rows: string[][] } {
  const trained = runs.filter((run) => run.config.mode === 'train' && mainValue(run) !== undefined);
  const tasks = [...new Set(trained.map((run) => run.config.task))];
  const groups = new Map<string, RunSummary[]>();
  for (const run of trained) {
    const key = JSON.stringify([run.config.architecture, methodLabel(run), run.skipped.join(',')]);
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const rows = [...groups.values()].map((group) => {
    const first = group[0]!;
    const cells = tasks.map((task) => {
      const values = group.filter((run) => run.config.task === task).map((run) => mainValue(run)!.value);
      return values.length ? percent(values.reduce((a, b) => a + b, 0) / values.length) + (values.length > 1 ? ` (${values.length} runs)` : '') : '-';
    });
    return [methodLabel(first), first.config.architecture, millions(first.tableParams), gflops(first.additionalFlops), ...cells, first.skipped.join(', ') || '-'];
  });
  return { header: ['Method', 'Model', 'Updated params', 'Additional FLOPs', ...tasks.map((task) => task.toUpperCase()), 'Skipped layers'], rows };
}

function searchCharts(run: RunSummary, index: number): Chart[] {
  const name = path.basename(run.dir);
  const charts: Chart[] = [];
  if (run.gates.length > 0) {
    const start = run.warmupEndStep ?? 0;
    const series = run.candidates.map((layer, i) => ({
      name: layer,
      points: [[start, 0.5] as [number, number], ...run.gates.map((g) => [g.step, g.probs[i]!] as [number, number])],
    }));
    charts.push({
      file: `gates-${index}.svg`,
      title: `Gate probabilities, ${name}`,
      svg: lineChart(series, { title: `Gate probability of each candidate layer (${name})`, xLabel: 'training step', yLabel: 'p = sigmoid(g)', markers: [{ x: start, label: 'warm-up ends' }] }),
    });
    const rewards = [
      { name: 'best sample reward', points: run.gates.map((g) => [g.step, Math.max(...g.rewards)] as [number, number]) },
      { name: 'baseline (mean)', points: run.gates.map((g) => [g.step, g.baseline] as [number, number]), dashed: true },
      { name: 'worst sample reward', points: run.gates.map((g) => [g.step, Math.min(...g.rewards)] as [number, number]) },
    ];
    charts.push({ file: `rewards-${index}.svg`, title: `Rewards, ${name}`, svg: lineChart(rewards, { title: `Rewards exp(-loss) per reward round (${name})`, xLabel: 'training step', yLabel: 'reward' }) });
  }
  if (run.trainLoss.length > 1) {
    const loss = [{ name: 'training loss', points: run.trainLoss.map((t) => [t.step, t.loss] as [number, number]) }];
    charts.push({ file: `loss-${index}.svg`, title: `Training loss, ${name}`, svg: lineChart(loss, { title: `Training loss (${name})`, xLabel: 'step', yLabel: 'loss' }) });
  }
  return charts;
}

function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function htmlTable(header: string[], rows: string[][]): string {
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n${head}\n${body}\n</table>`;
}

function choicesText(run: RunSummary): string {
  return run.choices.map((c) => `epoch ${c.epoch + 1}: ${c.skipped.join(', ')}`).join('; ');
}

export function writeReport(runDirs: string[], outDir: string): ReportFiles {
  if (runDirs.length === 0) throw invalidArgument('run directories', 'at least one', runDirs.length);
  const runs = runDirs.map(readRunSummary);
  fs.mkdirSync(outDir, { recursive: true });
  const rows = tableRows(runs);
  const methods = methodTable(runs);
  const searches = runs.map((run, i) => ({ run, charts: run.method === 'DAS search' ? searchCharts(run, i) : [] })).filter((s) => s.charts.length > 0);
  const charts = searches.flatMap((s) => s.charts);
  for (const chart of charts) writeFileAtomic(path.join(outDir, chart.file), chart.svg);

  const md = [
    '# DAS report',
    '',
    `Runs: ${runs.map((r) => `\`${r.dir}\``).join(', ')}`,
    '',
    `Additional FLOPs are per example (${[...new Set(runs.map((r) => r.input))].join(', ')}) relative to the pre-trained model, negative when skipping saves more than the adapters cost; updated parameters exclude the task head.`,
    '',
    markdownTable(HEADER, rows),
    '',
    ...(methods.rows.length
      ? ['## Methods', '', 'The paper\'s Table C layout: updated parameters exclude the task head, except for full tuning (the whole model); the main metric per task.', '', markdownTable(methods.header, methods.rows), '']
      : []),
    ...searches.flatMap(({ run, charts: own }) => [
      `## Search ${path.basename(run.dir)}`,
      '',
      `Skipped: **${run.skipped.join(', ')}** (k = ${run.config.search?.skipNum}, ${run.gates.length} reward rounds). Choices at epoch ends: ${choicesText(run)}.`,
      '',
      ...own.map((c) => `![${c.title}](${c.file})`),
      '',
    ]),
  ].join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>DAS report</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 13px; }
th { background: #f3f3f3; }
.chart { display: block; margin: 1em 0; }
</style></head>
<body>
<h1>DAS report</h1>
<p>Additional FLOPs are per example (${escapeHtml([...new Set(runs.map((r) => r.input))].join(', '))}) relative to the pre-trained model, negative when skipping saves more than the adapters cost; updated parameters exclude the task head.</p>
${htmlTable(HEADER, rows)}
${methods.rows.length ? `<h2>Methods</h2>\n<p>The paper's Table C layout: updated parameters exclude the task head, except for full tuning (the whole model); the main metric per task.</p>\n${htmlTable(methods.header, methods.rows)}` : ''}
${searches
  .map(
    ({ run, charts: own }) =>
      `<h2>Search ${escapeHtml(path.basename(run.dir))}</h2>\n<p>Skipped: <b>${escapeHtml(run.skipped.join(', '))}</b> (k = ${run.config.search?.skipNum}, ${run.gates.length} reward rounds). Choices at epoch ends: ${escapeHtml(choicesText(run))}.</p>\n${own.map((c) => c.svg).join('\n')}`,
  )
  .join('\n')}
</body></html>
`;
  const markdown = path.join(outDir, 'report.md');
  const htmlFile = path.join(outDir, 'report.html');
  writeFileAtomic(markdown, md);
  writeFileAtomic(htmlFile, html);
  return { markdown, html: htmlFile, charts: charts.map((c) => path.join(outDir, c.file)), runs };
}
