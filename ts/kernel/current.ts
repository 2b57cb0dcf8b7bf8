/**
 * Which engine "the calling thread" means for module objects that follow it
 * (the package's default `uwsgi` export). Outside a master it is a standalone
 * engine; when `uwsgi.run()` starts a master in the calling thread, the
 * master publishes its engine here and the followers move to it. This keeps
 * the master from importing the package entry (which would be a cycle).
 * @module
 */
import type { ThreadContext } from './context.ts';

const followers: Array<(ctx: ThreadContext) => void> = [];

/** Call `follow` with the thread view of every engine a master starts in this thread from now on. */
export function followMainEngine(follow: (ctx: ThreadContext) => void): void { followers.push(follow); }

/** A master started in this thread: module objects that follow the calling thread's engine move to `ctx`. */
export function publishMainEngine(ctx: ThreadContext): void { for (const f of followers) f(ctx); }

/**
 * Point the default `uwsgi` export of the calling JS thread (and every module
 * object that follows it) at `view`: an engine (`createEngine(options)`, its
 * main view) or one of its thread views (`engine.attach('worker', 1)`). For
 * tests of an app that imports `uwsgi`: the app then runs against an engine
 * with the test's options, its clock, and a fresh state per test, without a
 * master. The view it replaced lets go of what it opened (client connections).
 */
export function useEngine(view: { readonly ctx: ThreadContext } | { readonly uwsgi: { readonly ctx: ThreadContext } }): void {
  publishMainEngine('ctx' in view ? view.ctx : view.uwsgi.ctx);
}
