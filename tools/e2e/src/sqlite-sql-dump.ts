import Database from 'better-sqlite3';

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`;
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * A SQLite file as SQL text: every table's CREATE statement and rows (`schema_migrations` included, so the schema
 * version travels with the data), then its indexes. Kept as reviewable text in git, turned back into a file by
 * {@link loadSqlDump}: the fixtures of the previous release's data.
 */
export function dumpSqlite(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.defaultSafeIntegers(true);
  try {
    const objects = db
      .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
      .all() as { type: string; name: string; sql: string }[];
    const lines: string[] = [];
    for (const table of objects.filter((object) => object.type === 'table')) {
      lines.push(`${table.sql};`);
      for (const row of db.prepare(`SELECT * FROM "${table.name}"`).raw().all() as unknown[][]) {
        lines.push(`INSERT INTO "${table.name}" VALUES (${row.map(literal).join(', ')});`);
      }
    }
    for (const other of objects.filter((object) => object.type !== 'table')) lines.push(`${other.sql};`);
    return `${lines.join('\n')}\n`;
  } finally {
    db.close();
  }
}

/** Writes a SQLite file from {@link dumpSqlite}'s text. */
export function loadSqlDump(sql: string, file: string): void {
  const db = new Database(file);
  try {
    // Rows go in table by table; a child row may come before its parent (checked by the stores, not by the load).
    db.pragma('foreign_keys = OFF');
    db.exec(`BEGIN;\n${sql}\nCOMMIT;`);
  } finally {
    db.close();
  }
}
