import { execFileSync } from "node:child_process";
import { createServer } from "node:net";

interface ProcessRow {
  pid: number;
  ppid: number;
  pgid: number;
  /** ps state letters; `Z` for a zombie (exited, not yet collected by its parent). */
  state: string;
  command: string;
}

function processTable(): ProcessRow[] {
  const text = execFileSync("ps", ["-eo", "pid=,ppid=,pgid=,stat=,args="], { encoding: "utf8" });
  return text
    .split("\n")
    .map((line) => line.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/))
    .filter((match): match is RegExpMatchArray => match !== null)
    .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), pgid: Number(match[3]), state: match[4]!, command: match[5]! }));
}

/** Every live descendant of `root` (children, their children, …), with its command line. */
export function descendants(root: number): ProcessRow[] {
  const table = processTable();
  const found: ProcessRow[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const row of table) {
      if (row.ppid === parent) {
        found.push(row);
        frontier.push(row.pid);
      }
    }
  }
  return found;
}

/** Live processes among `pids`, and any process still in process group `pgid`. */
export function survivors(pids: number[], pgid: number): ProcessRow[] {
  const wanted = new Set(pids);
  // A zombie has exited; only its parent has not collected it yet.
  return processTable().filter((row) => (wanted.has(row.pid) || row.pgid === pgid) && !row.state.startsWith("Z"));
}

/** A TCP port free on loopback right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}
