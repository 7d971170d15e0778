// Regenerates the API types from api/openapi.yaml into a temporary file and
// fails when the committed src/api/schema.d.ts differs from it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const out = join(mkdtempSync(join(tmpdir(), "ticketd-gen-")), "schema.d.ts");
execFileSync("npx", ["openapi-typescript", "../api/openapi.yaml", "-o", out], { stdio: "ignore" });
if (readFileSync(out, "utf8") !== readFileSync("src/api/schema.d.ts", "utf8")) {
  console.error("web/src/api/schema.d.ts is out of date with api/openapi.yaml: run `npm run gen` in web/ and commit it");
  process.exit(1);
}
console.log("web/src/api/schema.d.ts matches api/openapi.yaml");
