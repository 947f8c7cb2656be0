#!/usr/bin/env node
import "../dist/downscope.js";
