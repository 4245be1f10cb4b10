import { z } from "zod";

/**
 * A link a person types (evidence of a revalidation task, …): only `https:` or `http:` with a
 * host, never `javascript:`, `data:` or another scheme that a browser would run or render.
 * Checked when the form is parsed and again when the link is rendered (`safeHref`), so a value
 * stored before this check cannot become a live link either.
 */
export function isWebLink(value: string): boolean {
  // The WHATWG parser drops tabs and newlines and trims, as a browser does when following it.
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "" && /^https?:\/\//i.test(value.trim());
}

/** The href to render for a stored link, or undefined (shown as text) when it is not a web link. */
export function safeHref(value: string | null | undefined): string | undefined {
  return value && isWebLink(value) ? value : undefined;
}

export const webLinkSchema = z.string().trim().max(2000, "At most 2,000 characters").refine(isWebLink, "A web link starting with https:// (or http://)");
