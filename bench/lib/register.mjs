// Load TypeScript through tsx WITHOUT the repository's tsconfig: its "paths" map `cloakroom/*` to the sources, and the
// bench must measure the BUILT package (packages/cloakroom/dist), resolved as a user's `import` would resolve it.
import { register } from "tsx/esm/api";

register({ tsconfig: false });
