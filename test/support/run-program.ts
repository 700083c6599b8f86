import { execFile } from "node:child_process";

export interface ProgramResult {
  /** The exit code; 0 on success. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program (a script of scripts/, promtool, …) to its end and returns its exit code and
 * output instead of throwing on a non-zero exit, so tests can assert on failures too.
 * @throws only when the program cannot be started at all (e.g. not installed), naming `hint`.
 */
export function runProgram(file: string, args: string[], options: { cwd?: string; env?: Record<string, string>; hint?: string } = {}): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const failure = error as (NodeJS.ErrnoException & { code?: number | string }) | null;
      if (failure?.code === "ENOENT") {
        reject(new Error(`${file} is missing${options.hint ? `: ${options.hint}` : ""}`));
        return;
      }
      resolve({ code: failure ? (typeof failure.code === "number" ? failure.code : 1) : 0, stdout, stderr });
    });
  });
}
