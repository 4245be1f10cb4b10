import { format } from "node:util";
import { beforeEach, vi } from "vitest";

// A test that makes the code log an error fails loudly instead of passing quietly.
beforeEach(() => {
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    throw new Error(`console.error was called: ${format(...args)}`);
  });
});
