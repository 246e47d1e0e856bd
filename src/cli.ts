#!/usr/bin/env node
// Entry point of the `mlautoscale` command.
import { main } from "./commands.js";
import type { CommandIO } from "./render/command.js";

const io: CommandIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
process.exitCode = await main(process.argv.slice(2), io);
