/** Types of server-build.mjs, for bench/ (TypeScript) that builds and runs the compiled server. */
export declare const DIST: string;
export declare function serverSourceHash(): string;
export declare function serverBuildState(): { current: boolean; reason: string };
export declare function buildServer(): { ok: boolean; reason: string };
