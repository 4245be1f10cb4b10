/**
 * Who may do what in a change request's discussion (ADR 030). Pure and isomorphic, like
 * ability.ts: the page shows or hides the forms with it, the service decides with it. Anyone who
 * may see the request may comment and reply.
 */
import { REVIEWER_ROLES } from "../app/domain/roles";

/**
 * A thread is marked blocking when a reviewer opens it: someone holding a reviewer role at every
 * site of the request (the roles passed are those) who is not its author — an author cannot block
 * their own request's approval, nor unblock it by opening a thread.
 */
export function mayMarkBlocking(person: { id: number; roles: readonly string[] }, changeRequest: { authorId: number }): boolean {
  return person.id !== changeRequest.authorId && person.roles.some((r) => (REVIEWER_ROLES as readonly string[]).includes(r));
}

/** A thread is resolved (and reopened) by whoever opened it or by the request's author; nobody else, not even an administrator. */
export function mayResolveThread(personId: number, thread: { authorId: number }, changeRequest: { authorId: number }): boolean {
  return personId === thread.authorId || personId === changeRequest.authorId;
}
