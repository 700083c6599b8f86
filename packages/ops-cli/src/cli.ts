#!/usr/bin/env node
/** `npm run ops -- replay range --endpoint ep_… --from … --to …`: the ops CLI's composition root. */
import { runOpsCommand } from "./ops-command.js";

process.exitCode = await runOpsCommand(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  progressStream: process.stderr,
}).catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
});
