/** JSON parsing with errors a person can act on: where the syntax breaks, and what the file must be. */

/** Parses JSON; a syntax error becomes an Error whose message says where (line, column) and why. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    let where = '';
    if (position !== null) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${column}`;
    }
    throw new Error(
      `is not valid JSON${where}: ${message} (the file must be plain JSON: no comments or trailing commas; use "//" keys for notes)`,
    );
  }
}
