import { formatCount } from "./format";

/** JSON for a screen: indented, possibly only its beginning (the CSV export has all of it). */
export interface JsonPreviewView {
  text: string;
  /** Characters of the whole indented JSON. */
  totalChars: number;
  truncated: boolean;
}

/** Pre-formatted JSON behind a disclosure, so a table of audit rows stays scannable. */
export function JsonDetails({ summary, json }: { summary: string; json: string | JsonPreviewView | null }) {
  if (json === null) return <span className="muted">—</span>;
  const preview = typeof json === "string" ? { text: json, totalChars: json.length, truncated: false } : json;
  return (
    <details className="json-details">
      <summary>
        {summary}
        {preview.truncated ? <span className="muted"> (long)</span> : null}
      </summary>
      <pre className="code-block">
        <code>
          {preview.text}
          {preview.truncated ? "\n…" : null}
        </code>
      </pre>
      {preview.truncated ? (
        <p className="muted small truncation-note">
          Shown: the first {formatCount(preview.text.length)} of {formatCount(preview.totalChars)} characters. The CSV export has the whole value.
        </p>
      ) : null}
    </details>
  );
}
