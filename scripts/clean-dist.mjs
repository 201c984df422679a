#!/usr/bin/env node
// Removes dist/ before a pack builds it again, so the tarball holds no
// compiled file whose source was deleted or renamed since the last build.
import { rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
