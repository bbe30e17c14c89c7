import { describe, expect, it } from "vitest";
import { deadLetterEvent } from "./events.js";

describe("the DLQ manager's dead-letter record", () => {
  it("keeps the original bytes, destination and failure context", () => {
    const fields = (deadLetterEvent.schema as { fields: Array<{ name: string }> }).fields.map((field) => field.name);
    expect(fields).toEqual(
      expect.arrayContaining(["originalBroker", "originalDestination", "originalBytes", "reason", "attempts"]),
    );
    expect(deadLetterEvent.subject).toBe("kronos.messaging.DeadLetter");
  });
});
