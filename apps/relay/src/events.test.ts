import { describe, expect, it } from "vitest";
import { bridgedEvents } from "./events.js";

describe("the relay's events", () => {
  it("are bound to both brokers in the contract manifest (what makes a bridge necessary)", () => {
    for (const event of bridgedEvents) {
      const brokers = (event.binding as Array<{ broker: string }>).map((binding) => binding.broker);
      expect(new Set(brokers), event.name).toEqual(new Set(["kafka", "rabbitmq"]));
    }
  });
});
