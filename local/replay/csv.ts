/**
 * A minimal RFC 4180 record parser: comma-separated fields, fields optionally in double quotes, `""` inside quotes
 * for a literal quote, and quoted fields that span lines (the caller joins lines while `parseCsvRecord` says the
 * record is incomplete).
 */

/**
 * Parses one record. Returns `null` when a quoted field is still open at the end of `text`: append the next line
 * (with `\n`) and call again.
 */
export function parseCsvRecord(text: string): string[] | null {
  if (!text.includes('"')) return text.split(',');
  const fields: string[] = [];
  let field = '';
  let i = 0;
  const n = text.length;
  while (i <= n) {
    if (text.charCodeAt(i) === 34 /* " */) {
      // Quoted field: runs to the closing quote; text after it up to the comma is kept (lenient).
      i++;
      let closed = false;
      while (i < n) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          field += text.slice(i);
          i = n;
          break;
        }
        field += text.slice(i, q);
        if (text.charCodeAt(q + 1) === 34) {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          closed = true;
          break;
        }
      }
      if (!closed) return null;
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      field += text.slice(i, end);
      fields.push(field);
      field = '';
      i = end + 1;
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      fields.push(text.slice(i, end));
      i = end + 1;
    }
  }
  return fields;
}
