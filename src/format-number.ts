/**
 * `12,345`: what `toLocaleString('en')` prints for whole numbers, without its first call's ~30 ms
 * of ICU set-up (start-up counts on every run). A leaf module any stage may import.
 */
export function thousands(value: number): string {
  if (!Number.isInteger(value) || Math.abs(value) < 1000) return String(value);
  const digits = String(Math.abs(value));
  let out = digits.slice(0, digits.length % 3 || 3);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return value < 0 ? `-${out}` : out;
}
