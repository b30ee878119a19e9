// Preloaded with `node --import` by test/cli/start-modules.cli.test.ts: appends the URL of every module the
// process loads (ES modules and require()d ones alike) to the file HW_MODULE_LOG names.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const log = process.env.HW_MODULE_LOG;
if (log) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(log, `${url}\n`);
      return nextLoad(url, context);
    },
  });
}
