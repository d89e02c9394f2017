// Progress of the native build for people: npm hides the output of a dependency's install script
// (shown only when it fails), and a first build of the addon takes minutes. This turns the
// build's output lines (CMake's Makefile "[ 45%] Building CXX object ...", Ninja's "[12/57] ...")
// into short progress lines. Plain JavaScript so that it runs before TypeScript is built.

/** The progress a build output line reports, or null for any other line. */
export function parseBuildProgress(line) {
  const text = line.trim();
  const make = /^\[\s*(\d+)%\]\s+(.*)$/.exec(text);
  const ninja = /^\[(\d+)\/(\d+)\]\s+(.*)$/.exec(text);
  if (!make && !ninja) return null;
  const percent = make ? Number(make[1]) : Math.floor((100 * Number(ninja[1])) / Math.max(1, Number(ninja[2])));
  const action = make ? make[2] : ninja[3];
  const source = /Building \w+ object \S*?((?:native|test)\/\S+?)\.o\b/.exec(action);
  if (source) return { percent, step: `compiling ${source[1]}` };
  if (/^Linking /.test(action)) return { percent, step: 'linking the addon' };
  return null;
}

/** "1m05s" */
export function formatElapsed(ms) {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
