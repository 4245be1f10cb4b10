import fs from "node:fs";
import { validateEventSchema } from "../app/domain/epcis/validate";
import { checkEventSemantics, planEvent, contentHash } from "../app/domain/epcis/events";
import { parseEpc } from "../app/domain/epcis/identifiers";
const d = JSON.parse(fs.readFileSync(process.argv[2]!, "utf8"));
const ev = d.epcisBody.eventList.slice(0, 20000);
for (const [name, fn] of [["schema", (e: any, i: number) => validateEventSchema(e, i)], ["semantic", (e: any, i: number) => checkEventSemantics(e, i)], ["plan", (e: any) => planEvent(e)], ["hash", (e: any) => contentHash(e)], ["parseEpc", (e: any) => (e.epcList ?? []).forEach((u: string) => parseEpc(u))]] as const) {
  const t = performance.now(); ev.forEach((e: any, i: number) => (fn as any)(e, i)); console.log(name, (performance.now() - t).toFixed(0), "ms / 20k");
}
