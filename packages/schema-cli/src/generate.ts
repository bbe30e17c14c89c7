import { type Catalog, loadCatalog } from "@kronos/catalog";
import { type EventSubjectsInput, type RunGenerateResult, runGenerate, selectFolder } from "@kronos/codegen";

/** Options of {@link generateDomain}. */
export interface GenerateDomainOptions {
  schemasDir: string;
  /** The domain folder under `schemas/`, e.g. `auth`. */
  domain: string;
  /** Where the TypeScript goes (replaced as a whole), e.g. `packages/events-auth/src/generated`. */
  outDir: string;
}

/** The manifest's bindings of every event, by full name: what each generated descriptor carries. */
export function bindingsOf(catalog: Catalog): Record<string, unknown> {
  return Object.fromEntries(catalog.events.map((event) => [event.name, event.bindings]));
}

/** The registry subjects of every event, by full name: what each generated descriptor carries. */
export function subjectsOf(catalog: Catalog): Record<string, EventSubjectsInput> {
  return Object.fromEntries(
    catalog.events.map((e) => [
      e.name,
      { naming: e.subjectNaming, subject: e.subject, topicSubjects: e.topicSubjects },
    ]),
  );
}

/**
 * Generates one domain's TypeScript (its events and the shared types they use) from the validated catalog.
 * @throws CatalogError when the schemas or the manifest are invalid; CodegenError for a schema codegen refuses.
 */
export async function generateDomain(options: GenerateDomainOptions): Promise<RunGenerateResult> {
  const catalog = await loadCatalog(options.schemasDir);
  const events = new Set(catalog.events.map((event) => event.name));
  if (!catalog.events.some((event) => event.domain === options.domain)) {
    throw new Error(`no event of domain "${options.domain}" in ${options.schemasDir}`);
  }
  return runGenerate({
    schemasDir: options.schemasDir,
    outDir: options.outDir,
    bindings: bindingsOf(catalog),
    subjects: subjectsOf(catalog),
    isEvent: (name) => events.has(name),
    select: (files) => selectFolder(files, options.domain),
  });
}
