import { describe, expect, it } from "vitest";
import { notMajor } from "./release.js";

const planned = (version: string, latest: string | undefined, bump: string | undefined) => ({
  name: "@kronos/events-gaia",
  dir: "/x",
  version,
  latest,
  action: "publish" as const,
  bump,
  events: [],
});

describe("a release of a package whose schemas broke compatibility", () => {
  it("is refused unless it is a new major version", () => {
    expect(notMajor([planned("1.3.0", "1.2.0", "major")])).toHaveLength(1);
    expect(notMajor([planned("1.2.1", "1.2.0", "major")])).toHaveLength(1);
    expect(notMajor([planned("2.0.0", "1.2.0", "major")])).toEqual([]);
    // A first release, or a compatible change, has no major to exceed.
    expect(notMajor([planned("0.1.0", undefined, "major")])).toEqual([]);
    expect(notMajor([planned("1.3.0", "1.2.0", "minor")])).toEqual([]);
  });

  it("below 1.0.0, is refused unless it is a new minor (npm's caret ranges read 0.x that way)", () => {
    expect(notMajor([planned("0.1.1", "0.1.0", "major")])).toHaveLength(1);
    expect(notMajor([planned("0.2.0", "0.1.0", "major")])).toEqual([]);
    expect(notMajor([planned("1.0.0", "0.1.0", "major")])).toEqual([]);
  });
});
