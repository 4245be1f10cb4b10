import { describe, expect, it } from "vitest";
import { describeQmsErrors, parseQmsCsv, parseReferenceList, QMS_CSV_ERROR_CAP, QMS_CSV_MAX_BYTES, QMS_CSV_MAX_ROWS } from "./quality-event-csv";

const HEADER = "qms_id,kind,site,severity,status,disposition,title,description,raised_at,references";
const csv = (...lines: string[]) => `${lines.join("\r\n")}\r\n`;

describe("a QMS export read row by row", () => {
  it("reads a well-formed file: vocabulary mapped, references split, defaults null, times in UTC", () => {
    const result = parseQmsCsv(
      csv(
        HEADER,
        "NCR-0001,NCR,ein,Major,,,Bore oversize,,2026-11-03T09:15:00+01:00,serial:ASM-1003:SN-0001; lot:RES-1004:L-7",
        "DEV-0002,Deviation,CLT,minor,In Containment,Use-As-Is,Accept lot,Two lines,,material:res-1004;container:003871234567890127",
      ),
    );
    expect(result.errors).toEqual([]);
    expect(result.errorCount).toBe(0);
    expect(result.rowCount).toBe(2);
    expect(result.rows).toEqual([
      {
        row: 2,
        qmsId: "NCR-0001",
        kind: "nonconformance",
        site: "EIN",
        severity: "major",
        status: null,
        disposition: null,
        title: "Bore oversize",
        description: "",
        raisedAt: "2026-11-03T08:15:00.000Z",
        references: [
          { kind: "serial", material: "ASM-1003", identifier: "SN-0001" },
          { kind: "lot", material: "RES-1004", identifier: "L-7" },
        ],
      },
      {
        row: 3,
        qmsId: "DEV-0002",
        kind: "concession",
        site: "CLT",
        severity: "minor",
        status: "contained",
        disposition: "use_as_is",
        title: "Accept lot",
        description: "Two lines",
        raisedAt: null,
        references: [
          { kind: "material", material: "RES-1004" },
          { kind: "container", identifier: "003871234567890127" },
        ],
      },
    ]);
  });

  it("reads columns in any order, optional columns absent, and keeps colons inside an id", () => {
    const result = parseQmsCsv("references,title,severity,site,kind,qms_id\nserial:ASM-1003:A:B:C,Scratch,critical,EIN,rework,RW-9\n");
    expect(result.errors).toEqual([]);
    expect(result.rows[0]).toMatchObject({
      qmsId: "RW-9",
      kind: "rework_order",
      status: null,
      disposition: null,
      description: "",
      raisedAt: null,
      references: [{ kind: "serial", material: "ASM-1003", identifier: "A:B:C" }],
    });
  });

  it("numbers rows as a spreadsheet does: header row 1, a quoted line break stays in its row, blank rows counted but skipped", () => {
    const result = parseQmsCsv(
      csv(HEADER, 'Q-1,nonconformance,EIN,minor,,,"Title","line one\r\nline two, with ""quotes""",,', "", "Q-2,nonconformance,EIN,tiny,,,T,,,"),
    );
    expect(result.rowCount).toBe(2);
    expect(result.rows[0]).toMatchObject({ row: 2, description: 'line one\nline two, with "quotes"' });
    expect(result.errors).toEqual([{ row: 4, column: "severity", message: '"tiny" is not a severity: one of minor, major, critical' }]);
  });

  it("lists every error of every row by row and column, and keeps none of the bad rows", () => {
    const result = parseQmsCsv(
      csv(
        HEADER,
        ",complaint,EIN,major,reopened,burn,,,,",
        "Q 2,nonconformance,E!N,minor,,,T,,2026-02-30T10:00:00Z,batch:X;serial:ASM-1003;lot:bad part:L1;material:",
        "Q-3,nonconformance,EIN,minor,,,T,,yesterday,serial:ASM-1003:S1;serial:asm-1003:S1",
        "Q-4,nonconformance,EIN,minor",
      ),
    );
    expect(result.rows).toEqual([]);
    expect(result.rowCount).toBe(4);
    expect(result.errors).toEqual([
      { row: 2, column: "qms_id", message: "The QMS id is empty" },
      { row: 2, column: "status", message: '"reopened" is not a status: one of open, contained, closed' },
      {
        row: 2,
        column: "disposition",
        message: '"burn" is not a disposition: one of pending, use_as_is, rework, repair, scrap, return_to_supplier, quarantine',
      },
      { row: 2, column: "title", message: "The title is empty" },
      { row: 3, column: "qms_id", message: '"Q 2": letters, digits and . _ - / # only, starting with a letter or digit' },
      { row: 3, column: "site", message: '"E!N" is not a site code (2–16 letters, digits or -)' },
      { row: 3, column: "raised_at", message: '"2026-02-30T10:00:00Z" is not a date-time that exists' },
      { row: 3, column: "references", message: '"batch:X": begins with serial:, lot:, container: or material:' },
      { row: 3, column: "references", message: '"serial:ASM-1003": a serial is serial:PART:ID' },
      { row: 3, column: "references", message: '"lot:bad part:L1": "BAD PART" is not a part number' },
      { row: 3, column: "references", message: '"material:": a material is material:PART' },
      {
        row: 4,
        column: "raised_at",
        message: '"yesterday" is not an ISO 8601 date-time with a time zone (e.g. 2026-11-03T08:15:00Z)',
      },
      { row: 4, column: "references", message: '"serial:asm-1003:S1" is named twice' },
      { row: 5, column: "row", message: "4 field(s) where the header has 10" },
    ]);
    expect(describeQmsErrors(result).split("\n")[0]).toBe("row 2, qms_id: The QMS id is empty");
  });

  it("refuses a time without a zone: the QMS's local time is not guessed", () => {
    const result = parseQmsCsv(csv(HEADER, "Q-1,nc,EIN,minor,,,T,,2026-11-03T08:15:00,"));
    expect(result.errors).toMatchObject([{ row: 2, column: "raised_at" }]);
  });

  it("refuses a qms_id that appears twice, naming the first row", () => {
    const result = parseQmsCsv(csv(HEADER, "Q-1,nc,EIN,minor,,,A,,,", "Q-2,nc,EIN,minor,,,B,,,", "Q-1,nc,EIN,minor,,,C,,,"));
    expect(result.errors).toEqual([{ row: 4, column: "qms_id", message: "Q-1 appears twice: first on row 2" }]);
    expect(result.rows.map((r) => r.qmsId)).toEqual(["Q-1", "Q-2"]);
  });
});

describe("the header", () => {
  it("refuses unknown, repeated and missing columns at row 1", () => {
    const result = parseQmsCsv("qms_id,kind,kind,site,colour\nQ-1,nc,nc,EIN,red\n");
    expect(result.rows).toEqual([]);
    expect(result.errors).toEqual([
      { row: 1, column: "kind", message: 'Column "kind" appears twice' },
      {
        row: 1,
        column: "colour",
        message: 'Unknown column "colour" (expected: qms_id, kind, site, severity, status, disposition, title, description, raised_at, references)',
      },
      { row: 1, column: "severity", message: 'Missing required column "severity"' },
      { row: 1, column: "title", message: 'Missing required column "title"' },
      { row: 1, column: "references", message: 'Missing required column "references"' },
    ]);
  });

  it("says so when the file is separated by ';' (a spreadsheet's regional CSV)", () => {
    const result = parseQmsCsv("qms_id;kind;site;severity;title;references\nQ-1;nc;EIN;minor;T;\n");
    expect(result.errors).toEqual([
      { row: 1, column: "header", message: "The header is one column holding ';': export the file comma-separated (RFC 4180), not with ';'" },
    ]);
  });
});

describe("hostile files", () => {
  it("reads a UTF-8 byte order mark as nothing (the first column is still qms_id)", () => {
    const bytes = new TextEncoder().encode(`\uFEFF${csv(HEADER, "Q-1,nc,EIN,minor,,,T,,,")}`);
    expect(bytes[0]).toBe(0xef);
    const result = parseQmsCsv(bytes);
    expect(result.errors).toEqual([]);
    expect(result.rows[0]!.qmsId).toBe("Q-1");
  });

  it("refuses UTF-16 and bytes that are not UTF-8, before reading any row", () => {
    expect(parseQmsCsv(new Uint8Array([0xff, 0xfe, 0x71, 0x00])).errors).toEqual([
      { row: 1, column: "file", message: "The file is UTF-16; export it as UTF-8" },
    ]);
    const latin1 = new Uint8Array([...new TextEncoder().encode(`${HEADER}\nQ-1,nc,EIN,minor,,,Caf`), 0xe9, 0x0a]);
    expect(parseQmsCsv(latin1).errors).toEqual([{ row: 1, column: "file", message: "The file is not UTF-8 text; export it as UTF-8 (CSV UTF-8)" }]);
  });

  it("takes a header named __proto__ (or constructor) as an unknown column, and the prototype stays untouched", () => {
    const result = parseQmsCsv(`${HEADER},__proto__,constructor\nQ-1,nc,EIN,minor,,,T,,,,"{""polluted"":1}",x\n`);
    expect(result.errors.map((e) => [e.row, e.column])).toEqual([
      [1, "__proto__"],
      [1, "constructor"],
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, "polluted")).toBe(false);
  });

  it("takes vocabulary words that name Object.prototype members as unknown words", () => {
    const result = parseQmsCsv(csv(HEADER, "Q-1,constructor,EIN,__proto__,toString,hasOwnProperty,T,,,"));
    expect(result.errors.map((e) => e.column)).toEqual(["kind", "severity", "status", "disposition"]);
  });

  it("keeps a formula-looking cell as literal text (never evaluated; C-981's CSV exports guard such cells)", () => {
    const result = parseQmsCsv(csv(HEADER, 'Q-1,nc,EIN,minor,,,"=HYPERLINK(""http://evil.example"",""x"")","+1-2 @SUM(A1)",,'));
    expect(result.errors).toEqual([]);
    expect(result.rows[0]).toMatchObject({ title: '=HYPERLINK("http://evil.example","x")', description: "+1-2 @SUM(A1)" });
  });

  it("refuses formula-looking values where the column has a format (qms_id, site, references)", () => {
    const result = parseQmsCsv(csv(HEADER, "=1+1,nc,=EIN,minor,,,T,,,=serial:A:B"));
    expect(result.errors.map((e) => e.column)).toEqual(["qms_id", "site", "references"]);
  });

  it("accepts CR, LF or CRLF line ends, and a quoted CR inside a field without splitting the row", () => {
    for (const eol of ["\n", "\r\n", "\r"]) {
      const result = parseQmsCsv(`${HEADER}${eol}Q-1,nc,EIN,minor,,,T,"a${eol}b",,${eol}Q-2,nc,EIN,minor,,,U,,,${eol}`);
      expect(result.errors).toEqual([]);
      expect(result.rows.map((r) => [r.row, r.description])).toEqual([
        [2, "a\nb"],
        [3, ""],
      ]);
    }
  });

  it("refuses a line break or control character in a one-line field", () => {
    const result = parseQmsCsv(csv(HEADER, 'Q-1,nc,EIN,minor,,,"two\nlines","bell\u0007",,"serial:ASM-1003:S\u0000"'));
    expect(result.errors.map((e) => e.column)).toEqual(["title", "description", "references"]);
    expect(result.errors[2]!.message).toContain("\\u0000");
  });

  it("reports an unclosed quote with the row it begins in", () => {
    const result = parseQmsCsv(csv(HEADER, "Q-1,nc,EIN,minor,,,T,,,", 'Q-2,nc,EIN,minor,,,"unclosed,,,', "Q-3,nc,EIN,minor,,,T,,,"));
    expect(result.rows).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ row: 3, column: "file" });
    expect(result.errors[0]!.message).toMatch(/^Not readable as CSV: /);
  });

  it("refuses a file over the size limit without reading it", () => {
    const big = new Uint8Array(QMS_CSV_MAX_BYTES + 1).fill(0x2c);
    const result = parseQmsCsv(big);
    expect(result).toEqual({
      rows: [],
      rowCount: 0,
      errorCount: 1,
      errors: [{ row: 1, column: "file", message: expect.stringMatching(/^The file is 8,388,609 bytes; at most 8,388,608 are read/) }],
    });
  });

  it("refuses more rows than one transaction takes, and caps the error list but not the count", () => {
    const many = Array.from({ length: QMS_CSV_MAX_ROWS + 1 }, (_, i) => `Q-${i},nc,EIN,minor,,,T,,,`);
    const tooMany = parseQmsCsv(csv(HEADER, ...many));
    expect(tooMany.errors.at(-1)).toMatchObject({ row: QMS_CSV_MAX_ROWS + 2, column: "file" });

    const bad = Array.from({ length: QMS_CSV_ERROR_CAP + 50 }, (_, i) => `Q-${i},nc,EIN,tiny,,,T,,,`);
    const capped = parseQmsCsv(csv(HEADER, ...bad));
    expect(capped.errorCount).toBe(QMS_CSV_ERROR_CAP + 50);
    expect(capped.errors).toHaveLength(QMS_CSV_ERROR_CAP);
    expect(describeQmsErrors(capped).split("\n").at(-1)).toBe("… and 50 more error(s)");
  });

  it("says what is missing in an empty file or one with only a header", () => {
    expect(parseQmsCsv("").errors).toMatchObject([{ row: 1, column: "file" }]);
    expect(parseQmsCsv("\uFEFF\r\n").errors).toMatchObject([{ row: 1, column: "file" }]);
    expect(parseQmsCsv(`${HEADER}\r\n`).errors).toEqual([{ row: 2, column: "file", message: "The file has a header but no quality event" }]);
  });
});

describe("references given one by one (the CLI's --ref)", () => {
  it("reads them with the file's rules, several per value allowed", () => {
    expect(parseReferenceList(["serial:fin-1001:10000042", "lot:RES-1001:RSPLIT001;container:C00000001"])).toEqual({
      ok: true,
      references: [
        { kind: "serial", material: "FIN-1001", identifier: "10000042" },
        { kind: "lot", material: "RES-1001", identifier: "RSPLIT001" },
        { kind: "container", identifier: "C00000001" },
      ],
    });
    expect(parseReferenceList(["pallet:1", "material:RES-1001", "material:res-1001"])).toEqual({
      ok: false,
      errors: ['"pallet:1": begins with serial:, lot:, container: or material:', '"material:res-1001" is named twice'],
    });
  });
});
