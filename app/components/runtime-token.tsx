import { useEffect, useRef, useState } from "react";

/**
 * A runtime client's bearer token, right after it was created: the only time anyone sees it.
 * It arrives in the action's response and lives in memory only — never in the URL, a cookie,
 * storage or the page's loader data — so a reload or any navigation makes it gone for good.
 */
export function RuntimeTokenOnce({ name, token, sites }: { name: string; token: string; sites: readonly string[] }) {
  const boxRef = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  // The box replaces the form's place in the reader's attention: move focus to it once.
  useEffect(() => boxRef.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token);
      setCopied("yes");
    } catch {
      setCopied("no");
    }
  };
  const example = sites[0] ?? "SITE";
  return (
    <section ref={boxRef} tabIndex={-1} aria-labelledby="runtime-token-heading" className="card token-once">
      <h2 id="runtime-token-heading">Token for {name} — shown once</h2>
      <p className="token-warning" role="alert">
        <strong>Copy this token now: it will not be shown again.</strong> C-981 keeps only its hash; a lost token cannot be recovered — revoke the client and
        create a new one.
      </p>
      {/* biome-ignore lint/a11y/useSemanticElements: the <pre> is the scrollable, focusable region itself; a wrapping <section> would split the name from what scrolls */}
      <pre className="token-value" role="region" aria-label={`Bearer token of ${name}`}>
        <code>{token}</code>
      </pre>
      <p className="token-actions">
        <button type="button" className="button-secondary" onClick={copy}>
          Copy token
        </button>{" "}
        <span role="status" className="muted">
          {copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "Could not copy: select the token and copy it by hand." : null}
        </span>
      </p>
      <p className="muted small">
        Sites: {sites.join(", ")}. The runtime sends it as <code>Authorization: Bearer …</code>, e.g. to <code>/api/v1/sites/{example}/ruleset</code>.
      </p>
    </section>
  );
}
