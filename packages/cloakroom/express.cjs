"use strict";
// CommonJS entry for `require("cloakroom/express")`: like express-session, the module itself is the middleware
// factory, with Store, MemoryStore, Session and Cookie attached.
const mod = require("./dist/express.cjs");
module.exports = Object.assign(mod.default, mod);
