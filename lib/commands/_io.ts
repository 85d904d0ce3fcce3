/** Output of CLI commands. */

const encoder = new TextEncoder();

/** Write all of `text` to stdout. */
export async function writeStdout(text: string): Promise<void> {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(await Deno.stdout.write(bytes));
}

/** Print one line on stderr, prefixed with `ecl: `. */
export function printInfo(message: string): void {
  console.error(`ecl: ${message}`);
}

/** Print one warning line on stderr. */
export function printWarning(message: string): void {
  console.error(`ecl: warning: ${message}`);
}
