// The injection settings `tailcar check` reads pods by: the built-in ones, since the check cannot
// see the running webhook's flags (docs/check.md). The version only names the default image, which
// no check looks at; the status annotation's version is given to inject() apart.
import { defaultInjectOptions } from "../options.ts";

export const CHECK_INJECT_OPTIONS = defaultInjectOptions("");
