import { ensureStackUp } from "../src/index.js";

export default async function setup(): Promise<void> {
  await ensureStackUp();
}
