/** Single-quotes a word for the shell unless it is plainly safe as it is. */
export function quote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
