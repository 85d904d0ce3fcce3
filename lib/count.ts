/**
 * The count rule (pure): what `log(event, count)`, `ecl log EVENT COUNT` and `ecl log --stdin`
 * accept as a count — a whole number from 1 to 2^53 - 1 — and the one message for anything else.
 * @module
 */

/** The end of every message about a bad count. */
export const COUNT_RULE = `expected a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`;

const WHOLE = /^\+?\d+$/;

/** Whether `count` is a count that can be logged. */
export function isCount(count: number): boolean {
  return Number.isSafeInteger(count) && count > 0;
}

/** The count that `text` (digits, an optional `+`) stands for, or `undefined` when it is none. */
export function parseCount(text: string): number | undefined {
  const count = WHOLE.test(text) ? Number(text) : NaN;
  return isCount(count) ? count : undefined;
}

/** `Cannot log count "<text>": expected a whole number from 1 to 9007199254740991`. */
export function countError(text: string): string {
  return `Cannot log count ${JSON.stringify(text)}: ${COUNT_RULE}`;
}
