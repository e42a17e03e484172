/** Cognito's TIMESTAMP, kept free of imports so the browser-safe client entry can share it. */
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/**
 * Cognito's TIMESTAMP format, "ddd MMM D HH:mm:ss UTC YYYY" in UTC, e.g.
 * "Tue Mar 4 09:05:07 UTC 2025" (day not zero-padded; time fields are).
 * Matches amplify's DateHelper.getNowString.
 */
export function formatTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${WEEKDAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`
  );
}
