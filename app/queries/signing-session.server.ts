/**
 * The signing session (21 CFR 11.200(a)(1)): a series of signings close together is one continuous
 * session, and only its first signature asks for the user name as well as the password.
 */
import { eq } from "drizzle-orm";
import { sessions } from "../../db/schema";
import type { DbOrTx } from "../utils/db.server";

/** A series of signings within this many minutes of each other is one continuous session (11.200(a)(1)). */
export const CONTINUOUS_SIGNING_MINUTES = 15;

/** Whether the next signature of this session must also give the user name. */
export async function signatureNeedsUsername(db: DbOrTx, sessionIdHash: string): Promise<boolean> {
  const [session] = await db.select({ lastSignatureAt: sessions.lastSignatureAt }).from(sessions).where(eq(sessions.idHash, sessionIdHash));
  return !session?.lastSignatureAt || Date.now() - session.lastSignatureAt.getTime() >= CONTINUOUS_SIGNING_MINUTES * 60_000;
}
