#!/usr/bin/env node
// Removes dist/ before every build, so neither the tests nor a packed tarball
// see a compiled file whose source was deleted or renamed since the last build.
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
