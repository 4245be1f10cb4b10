/** users:list, users:create, users:password, users:reset-password, users:deactivate (ADR 005, ADR 020). */
import { parseArgs } from "node:util";
import { grantSchema } from "../../app/schemas/users";
import { changeOwnPassword, generatePassword, resetPassword } from "../../app/services/passwords.server";
import { createUser, deactivateUser } from "../../app/services/users.server";
import { listUsers } from "../../app/queries/users.server";
import { readEnv } from "../../app/utils/env.server";
import { DomainError } from "../../app/utils/errors.server";
import { cliActor, readStdin, type Command } from "./command";

function parseGrant(text: string) {
  const [role, site] = text.split("@");
  const parsed = grantSchema.safeParse({ role, site: site ?? "" });
  if (!parsed.success)
    throw new DomainError(
      "invalid",
      `--role ${text}: ${parsed.error.issues.map((i) => i.message).join("; ")} (roles: viewer, engineer, quality_reviewer, regulatory_reviewer, release_manager, admin; add @SITE to limit to one site)`,
    );
  return parsed.data;
}

export const userCommands: Record<"users:list" | "users:create" | "users:password" | "users:reset-password" | "users:deactivate", Command> = {
  "users:list": {
    summary: "list users, their roles and site scopes",
    async run(database) {
      for (const u of await listUsers(database.db)) {
        const roles = u.grants.map((g) => `${g.role}${g.site ? `@${g.site}` : ""}`).join(", ");
        console.log(`${u.username.padEnd(24)} ${(u.active ? "active" : "DEACTIVATED").padEnd(12)} ${u.displayName.padEnd(28)} ${roles}`);
      }
      return 0;
    },
  },
  "users:create": {
    summary: "create a user; prints a generated initial password unless --password-stdin",
    usage: "users:create --username U --name 'Full Name' --role ROLE[@SITE]... --reason R [--password-stdin]",
    async run(database, args) {
      const { values } = parseArgs({
        args,
        options: {
          username: { type: "string" },
          name: { type: "string" },
          role: { type: "string", multiple: true },
          reason: { type: "string" },
          "password-stdin": { type: "boolean", default: false },
        },
        strict: true,
      });
      // Passwords never come from the command line: it ends up in shell history and process lists.
      const generated = !values["password-stdin"];
      const password = generated ? generatePassword((values.username ?? "").trim().toLowerCase()) : await readStdin();
      // The operator's password, not the user's: it must be changed before they sign (ADR 020).
      const user = await createUser(
        database.db,
        cliActor(),
        {
          username: values.username ?? "",
          displayName: values.name ?? "",
          password,
          grants: (values.role ?? []).map(parseGrant),
          reason: values.reason ?? "",
        },
        "operator",
      );
      console.log(`created ${user.username} (${user.grants.map((g) => `${g.role}${g.site ? `@${g.site}` : ""}`).join(", ")})`);
      if (generated) console.log(`initial password (shown once): ${password}`);
      console.log("the user must change this password at first sign-in before signing anything");
      return 0;
    },
  },
  "users:password": {
    summary: "change your own password: reads the current password, then the new one, one per line, from stdin",
    usage: "printf '%s\\n%s\\n' CURRENT NEW | users:password <username>",
    async run(database, args) {
      const { positionals } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
      const username = (positionals[0] ?? "").trim().toLowerCase();
      const [currentPassword = "", newPassword = ""] = (await readStdin()).split(/\r?\n/);
      await changeOwnPassword(database.db, {
        username,
        currentPassword,
        newPassword,
        historyDepth: readEnv().C981_PASSWORD_HISTORY,
        keepSessionIdHash: null,
        via: cliActor(),
      });
      console.log(`password of ${username} changed; their sessions were ended`);
      return 0;
    },
  },
  "users:reset-password": {
    summary: "an administrator sets a user's password (generated and printed once, or --password-stdin); the user must change it before signing",
    usage: "users:reset-password <username> --reason R [--password-stdin]",
    async run(database, args) {
      const { values, positionals } = parseArgs({
        args,
        options: { reason: { type: "string" }, "password-stdin": { type: "boolean", default: false } },
        allowPositionals: true,
        strict: true,
      });
      const username = (positionals[0] ?? "").trim().toLowerCase();
      const generated = !values["password-stdin"];
      const password = generated ? generatePassword(username) : await readStdin();
      await resetPassword(database.db, cliActor(), { username, password, reason: values.reason ?? "" });
      console.log(`password of ${username} reset; their sessions were ended; they must change it at next sign-in`);
      if (generated) console.log(`new password (shown once): ${password}`);
      return 0;
    },
  },
  "users:deactivate": {
    summary: "deactivate a user (never deleted; the name is never reused) and end their sessions",
    usage: "users:deactivate <username> --reason R",
    async run(database, args) {
      const { values, positionals } = parseArgs({ args, options: { reason: { type: "string" } }, allowPositionals: true, strict: true });
      const user = await deactivateUser(database.db, cliActor(), { username: positionals[0] ?? "", reason: values.reason ?? "" });
      console.log(`deactivated ${user.username}`);
      return 0;
    },
  },
};
