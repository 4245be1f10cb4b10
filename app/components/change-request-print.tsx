/** Opens the browser's print dialog (an event handler, not an inline script: the CSP allows it). */
export function PrintButton() {
  return (
    <button type="button" className="button-secondary" onClick={() => window.print()}>
      Print
    </button>
  );
}
