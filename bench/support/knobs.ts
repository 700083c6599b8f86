/**
 * A benchmark size or duration from the environment (so a quick run can cut it), or the
 * issue's size when unset. Anything but a positive number is refused with the variable's name.
 */
export function numberKnob(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${JSON.stringify(text)}: expected a positive number`);
  return value;
}

/** Resolves at `at` (epoch milliseconds, this machine's clock), at once if that has passed. */
export async function sleepUntil(at: number): Promise<void> {
  const wait = at - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
