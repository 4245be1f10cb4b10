/** Pre-formatted JSON behind a disclosure, so a table of audit rows stays scannable. */
export function JsonDetails({ summary, json }: { summary: string; json: string | null }) {
  if (json === null) return <span className="muted">—</span>;
  return (
    <details className="json-details">
      <summary>{summary}</summary>
      <pre className="code-block">
        <code>{json}</code>
      </pre>
    </details>
  );
}
