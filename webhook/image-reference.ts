// Container image references, checked with the grammar of the Docker/OCI distribution project
// (github.com/distribution/reference, regexp.go): [domain[:port]/]path[:tag][@digest], the path in
// lowercase components joined by "/", a tag of at most 128 word characters, dots and dashes, a
// digest "algorithm:hex". The kubelet refuses anything else, so a sidecar with such an image would
// never start: a bad setting is refused where it is given instead.

const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?`;
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REFERENCE = new RegExp(`^(${NAME})(?::${TAG})?(?:@${DIGEST})?$`);

/** The distribution project's limit on the name (without tag and digest). */
export const MAX_IMAGE_NAME_LENGTH = 255;

/** Why `value` is not an image reference, or undefined when it is one. */
export function imageReferenceProblem(value: string): string | undefined {
  const match = REFERENCE.exec(value);
  if (match === null) return "is not an image reference ([registry[:port]/]name[:tag][@digest], name in lowercase)";
  if (match[1]!.length > MAX_IMAGE_NAME_LENGTH) return `is not an image reference: the name is longer than ${MAX_IMAGE_NAME_LENGTH} characters`;
  return undefined;
}
