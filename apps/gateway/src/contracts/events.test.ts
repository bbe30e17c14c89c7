import { describe, expect, it } from "vitest";
import { eventsByName } from "./events.js";

describe("the gateway's events", () => {
  it("come from the generated packages: every catalog event, each with its manifest bindings", () => {
    expect(eventsByName.size).toBe(16);
    const alert = eventsByName.get("kronos.gaia.CriticalAlert");
    expect(alert?.subject).toBe("kronos.gaia.CriticalAlert");
    for (const event of eventsByName.values()) {
      expect(Array.isArray(event.binding) && event.binding.length > 0, event.name).toBe(true);
    }
  });
});
