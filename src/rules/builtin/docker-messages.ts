/**
 * Parsers for the Docker format's log messages (the plugin is closed source; the texts are
 * from user-posted logs, see shared reference nexus-logs.md). Only called on events that
 * passed the literal prefilter, so a regex here costs nothing on the hot path.
 */

export interface MissingLayerMessage {
  /** `sha256:<hex>` */
  digest: string;
  /** Image name; may contain slashes. */
  image: string;
  /** Tag; `null` (the text) when the push was by digest. */
  tag: string;
  /** Repository name from `name='...'`, or null when the text lacks it. */
  repository: string | null;
  /** `hosted`, `proxy`, `group`, or null. */
  repositoryType: string | null;
}

export interface V2ErrorMessage {
  method: string;
  /** Request path as logged, e.g. `/v2/ctbots/base/llamafactory/manifests/v1`. */
  path: string;
  status: number;
  /** Text after the status, e.g. `org.sonatype...V2Exception: Invalid Manifest`; empty when none. */
  error: string;
}

export interface ManifestPath {
  /** Repository name when the path was routed as `/repository/<name>/v2/...`, else null. */
  repository: string | null;
  image: string;
  /** Tag or digest. */
  reference: string;
}

export const MISSING_LAYER_LITERAL = 'Manifest refers to missing layer';
export const INVALID_MANIFEST_LITERAL = 'Invalid Manifest';

const MISSING_LAYER = /^Manifest refers to missing layer: (\S+) for: (\S+) in repository (.*)$/;
const REPOSITORY_NAME = /name='([^']*)'|name=([^,}\s]+)/;
const REPOSITORY_TYPE = /type=([\w-]+)/;
const V2_ERROR = /^Error: ([A-Z]+) (\S+?): (\d{3})(?: - (.*))?$/;
const MANIFEST_PATH = /^(?:\/repository\/([^/]+))?\/v2\/(.+)\/manifests\/([^/?#]+)/;

export function parseMissingLayer(message: string): MissingLayerMessage | undefined {
  const match = MISSING_LAYER.exec(message);
  if (match === null) return undefined;
  const [, digest, name, repositoryText] = match as unknown as [string, string, string, string];
  const slash = name.lastIndexOf('/');
  if (slash <= 0 || slash === name.length - 1) return undefined;
  const nameMatch = REPOSITORY_NAME.exec(repositoryText);
  const typeMatch = REPOSITORY_TYPE.exec(repositoryText);
  return {
    digest,
    image: name.slice(0, slash),
    tag: name.slice(slash + 1),
    repository: nameMatch === null ? null : (nameMatch[1] ?? nameMatch[2] ?? null),
    repositoryType: typeMatch === null ? null : (typeMatch[1] ?? null),
  };
}

export function parseV2Error(message: string): V2ErrorMessage | undefined {
  const match = V2_ERROR.exec(message);
  if (match === null) return undefined;
  return { method: match[1] as string, path: match[2] as string, status: Number(match[3]), error: match[4] ?? '' };
}

export function parseManifestPath(path: string): ManifestPath | undefined {
  const match = MANIFEST_PATH.exec(path);
  if (match === null) return undefined;
  return { repository: match[1] ?? null, image: match[2] as string, reference: match[3] as string };
}

/**
 * `image:tag`, `image@sha256:...` for a digest, or `image` when the reference is unknown. Takes
 * what a push incident holds (either may be null); an unknown image reads `(unknown image)`.
 */
export function formatImageRef(image: string | null, reference: string | null): string {
  const name = image ?? '(unknown image)';
  if (reference === null) return name;
  return reference.includes(':') ? `${name}@${reference}` : `${name}:${reference}`;
}
