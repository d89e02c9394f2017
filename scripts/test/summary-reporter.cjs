// Mocha's spec reporter, closed by one plain summary line ("N passed, N failed[, N skipped]")
// that CI and other tools can read without knowing mocha's own wording.
'use strict';
const { reporters } = require('mocha');
const Spec = reporters.Spec;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once('end', () => {
      const { passes, failures, pending } = this.stats;
      process.stdout.write(`\n${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}\n`);
    });
  }
}

module.exports = SummaryReporter;
