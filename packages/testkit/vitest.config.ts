import { kronosVitestConfig } from "./src/vitest.js";

export default kronosVitestConfig();
