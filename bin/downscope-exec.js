#!/usr/bin/env node
import "../dist/downscope-exec.js";
