import { describe, expect, it } from "vitest";
import {
  anchorExportFiles,
  anchorPayload,
  describeJudgement,
  judgeAgainstAnchors,
  jwsSigningInput,
  parseAnchorPayload,
  type TrustedAnchor,
} from "./audit-anchor";

const h = (c: string) => c.repeat(64);
const anchor = (id: number, seq: number, hash: string): TrustedAnchor => ({ id, kind: "checkpoint", seq, hash, issuedAt: `2026-01-0${id}T00:00:00.000Z` });
const anchors = [anchor(1, 5, h("a")), anchor(2, 10, h("b"))];
const stored =
  (overrides: Record<number, string> = {}) =>
  (seq: number) =>
    overrides[seq] ?? ({ 5: h("a"), 10: h("b") } as Record<number, string>)[seq] ?? h("0");

describe("judgeAgainstAnchors", () => {
  it("intact: names the latest anchor and the rows after it", () => {
    expect(judgeAgainstAnchors(anchors, 12, stored())).toEqual({ state: "intact", lastAnchor: anchors[1], unanchoredRows: 2 });
    expect(judgeAgainstAnchors([], 3, stored())).toEqual({ state: "intact", lastAnchor: undefined, unanchoredRows: 3 });
  });

  it("rewritten: located between the last matching anchor and the first failing one, whatever the order given", () => {
    const judgement = judgeAgainstAnchors([...anchors].reverse(), 12, stored({ 10: h("c") }));
    expect(judgement).toEqual({ state: "rewritten", lastGood: anchors[0], firstBad: anchors[1], storedHash: h("c"), from: 6, to: 10 });
    expect(describeJudgement(judgement)).toMatch(/^REWRITTEN: row 10 hashes to cccccccccccc…, but signed anchor #2 .* rows 6–10 \(after anchor #1 \(row 5/);
    expect(judgeAgainstAnchors(anchors, 12, stored({ 5: h("c"), 10: h("d") }))).toMatchObject({ state: "rewritten", firstBad: { id: 1 }, from: 1, to: 5 });
  });

  it("truncated: the head is before an anchor, or an anchored row is missing", () => {
    expect(judgeAgainstAnchors(anchors, 8, stored())).toEqual({ state: "truncated", lastGood: anchors[0], anchor: anchors[1], headSeq: 8 });
    expect(judgeAgainstAnchors(anchors, 12, (seq) => (seq === 10 ? undefined : h("a")))).toMatchObject({ state: "truncated", anchor: { id: 2 } });
    expect(describeJudgement(judgeAgainstAnchors(anchors, 8, stored()))).toMatch(/^TRUNCATED: the trail ends at row 8, .* rows 9–10 \(at least\) were deleted/);
  });
});

describe("the anchor statement", () => {
  const statement = {
    type: "c981.audit-anchor" as const,
    kind: "release" as const,
    seq: 7,
    hash: h("e"),
    issuedAt: "2026-12-07T00:00:00.000Z",
    ruleSet: { site: "EIN", version: 3, digest: h("f") },
  };

  it("is canonical JSON and reads back; anything else is refused", () => {
    const bytes = anchorPayload(statement);
    expect(new TextDecoder().decode(bytes)).toBe(
      `{"hash":"${h("e")}","issuedAt":"2026-12-07T00:00:00.000Z","kind":"release","ruleSet":{"digest":"${h("f")}","site":"EIN","version":3},"seq":7,"type":"c981.audit-anchor"}`,
    );
    expect(parseAnchorPayload(bytes)).toEqual(statement);
    expect(parseAnchorPayload(new TextEncoder().encode('{"type":"c981.ruleset"}'))).toBeUndefined();
    expect(parseAnchorPayload(anchorPayload({ ...statement, seq: 0 }))).toBeUndefined();
    expect(parseAnchorPayload(anchorPayload({ ...statement, hash: "ABC" }))).toBeUndefined();
    expect(parseAnchorPayload(new Uint8Array([0xff]))).toBeUndefined();
  });

  it("exports, per signature, the JWS signing input and the raw signature", () => {
    const payload = anchorPayload(statement);
    const payloadB64 = Buffer.from(payload).toString("base64url");
    const signature = Buffer.alloc(64, 1).toString("base64url");
    const files = anchorExportFiles(
      [
        {
          id: 3,
          kind: "release",
          seq: 7,
          hash: h("e"),
          issuedAt: statement.issuedAt,
          payload,
          jws: { payload: payloadB64, signatures: [{ protected: "eyJ9", signature, kid: "KID", alg: "EdDSA" }] },
        },
      ],
      new Map([["KID", "-----BEGIN PUBLIC KEY-----\n"]]),
    );
    const byPath = new Map(files.map((f) => [f.path, f.content]));
    expect([...byPath.keys()].sort()).toEqual([
      "README.txt",
      "anchors.jsonl",
      "anchors/000003.KID.sig",
      "anchors/000003.KID.signed",
      "anchors/000003.payload.json",
      "keys/KID.pem",
      "verify.sh",
    ]);
    expect(new TextDecoder().decode(byPath.get("anchors/000003.KID.signed") as Uint8Array)).toBe(`eyJ9.${payloadB64}`);
    expect(byPath.get("anchors/000003.KID.signed")).toEqual(jwsSigningInput("eyJ9", payloadB64));
    expect(Buffer.from(byPath.get("anchors/000003.KID.sig") as Uint8Array)).toEqual(Buffer.alloc(64, 1));
    expect(byPath.get("verify.sh")).toContain("check 000003 KID");
    expect(() =>
      anchorExportFiles(
        [
          {
            id: 1,
            kind: "release",
            seq: 1,
            hash: h("e"),
            issuedAt: "",
            payload,
            jws: { payload: payloadB64, signatures: [{ protected: "e", signature, kid: "K", alg: "ES256" }] },
          },
        ],
        new Map(),
      ),
    ).toThrow(/Ed25519 only/);
  });
});
