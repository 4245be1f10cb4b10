import type { Role } from "../../policies/ability";
import type { Signer } from "../../app/services/change-requests.server";
import { hashSessionId, signIn } from "../../app/services/sessions.server";
import { createUser } from "../../app/services/users.server";
import type { Database } from "../../app/utils/db.server";

/**
 * A user with these roles at every site, created and signed in: a signer for change requests and
 * releases (the signature services check the password and the live session).
 */
export async function signedInPerson(database: Database, username: string, roles: Role[], password: string): Promise<Signer> {
  await createUser(
    database.db,
    "test",
    { username, displayName: username.toUpperCase(), password, grants: roles.map((role) => ({ role, site: null })), reason: "test" },
    "fixture",
  );
  const session = await signIn(database.db, { username, password, ip: null, maxHours: 1 });
  if (!session.ok) throw new Error("sign-in failed");
  const [row] = await database.client`select id from users where username = ${username}`;
  return { id: row!.id as number, username, displayName: username.toUpperCase(), roles, sessionIdHash: hashSessionId(session.sessionId) };
}
