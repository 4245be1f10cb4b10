/**
 * Loaded first by `npm start` (`node --import ./server/stop-early.mjs --import tsx server/main.ts`):
 * a SIGTERM or SIGINT that arrives while tsx and the server's modules load ends the process with
 * exit code 0, as a stop during start-up should, instead of killing it (143/130). server/main.ts
 * takes over as soon as it runs (ADR 017).
 */
const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
globalThis[Symbol.for("c981.stopEarly")] = () => {
  process.off("SIGTERM", stop);
  process.off("SIGINT", stop);
};
