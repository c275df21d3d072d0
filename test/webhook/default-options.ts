// The built-in injection options of this package's version, made as the commands make them (they
// read the version; the injection modules take it as an input).
import { defaultInjectOptions } from "../../webhook/options.ts";
import { packageVersion } from "../../webhook/package-version.ts";

/** The injector's version, for the default image and the tailcar.io/status annotation. */
export const VERSION = packageVersion();
export const DEFAULT_INJECT_OPTIONS = defaultInjectOptions(VERSION);
