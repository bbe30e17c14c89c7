import { dirname, join, normalize } from "node:path/posix";
import type { SourceFile } from "./generate.js";

const RELATIVE_IMPORT = /from "(\.{1,2}\/[^"]+)\.js"/g;

/**
 * The files of one output folder (e.g. `auth/`) and every generated file they import, directly or not
 * (e.g. `common/EventMeta.ts`), so one domain's package holds its own events and the shared types they use.
 * Pure: works on {@link generate}'s output.
 * @throws Error when no file lies in `folder`
 */
export function selectFolder(files: readonly SourceFile[], folder: string): SourceFile[] {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const selected = new Set<string>();
  const visit = (path: string) => {
    const file = byPath.get(path);
    if (!file || selected.has(path)) return;
    selected.add(path);
    for (const match of file.content.matchAll(RELATIVE_IMPORT)) {
      visit(`${normalize(join(dirname(path), match[1] ?? ""))}.ts`);
    }
  };
  for (const file of files) if (file.path.startsWith(`${folder}/`)) visit(file.path);
  if (selected.size === 0) throw new Error(`no generated file lies in "${folder}/"`);
  return files.filter((file) => selected.has(file.path));
}
