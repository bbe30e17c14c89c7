import { generateFixtures } from "./generate-fixtures.js";

/** vitest global setup: (re)generates test/generated from the fixtures before the tests import it. */
export default async function setup(): Promise<void> {
  await generateFixtures();
}
