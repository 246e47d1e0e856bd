// Runs a command's function as the CLI would, and keeps what it prints.
import type { CommandIO } from "../../src/render/command.js";

export type Command = (argv: string[], io: CommandIO) => Promise<number>;

export async function runCommand(
  command: Command,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await command(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}
