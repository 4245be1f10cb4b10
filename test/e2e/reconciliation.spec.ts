import { expect, signIn, test } from "./support";

/**
 * ERP/PLM snapshots and the reconciliation (ADR 015): an administrator's bad file is
 * refused whole with its errors located; the report shows the demo plant's disagreements. (No
 * good file is imported here: the other specs share this server's demo plant.)
 */
test("a bad ERP file is refused with its errors located; the reconciliation shows the demo disagreements", async ({ page }) => {
  await signIn(page, "ada.admin");
  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "ERP / PLM" }).click();
  await expect(page.getByRole("heading", { name: "ERP / PLM snapshots" })).toBeVisible();
  await page.getByLabel("System", { exact: true }).selectOption("erp");
  await page.getByLabel("CSV file").setInputFiles({
    name: "erp-bad.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("part_number,tracking,site\nASM-1003,batch,EIN\nASM-1004,sometimes,EIN\n,serial,XYZ\n"),
  });
  await page.getByRole("button", { name: "Import" }).click();
  const refused = page.getByRole("alert").filter({ hasText: "Refused" });
  await expect(refused).toContainText("nothing was imported");
  const errors = page.getByRole("table", { name: /Errors/ });
  await expect(errors.getByRole("row")).toHaveCount(1 + 3);
  await expect(errors.getByRole("row").nth(1)).toContainText("3tracking");
  await expect(errors).toContainText('Unknown site "XYZ"');

  await page.getByRole("navigation", { name: "Primary" }).getByRole("link", { name: "Reconciliation" }).click();
  const report = page.getByRole("table", { name: /Disagreements/ });
  await expect(report).toContainText("MCH-1099@EIN");
  await expect(report).toContainText("unknown to C-981");
  await expect(report).toContainText("ASM-1003@EIN");
  await expect(page.getByRole("link", { name: "Export CSV" })).toHaveAttribute("href", "/reconciliation.csv");
});
