/** The uWSGI API level implemented, tagged with this implementation's name. */
export const VERSION = '2.0.21-uwsgi-wasm';
/** `[base, major, minor, revision, tag]`, as uWSGI's `version_info`. */
export const VERSION_INFO: readonly [number, number, number, number, string] = [2, 0, 21, 0, 'uwsgi-wasm'];
