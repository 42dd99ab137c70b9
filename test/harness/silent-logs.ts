import { setLogLevel } from "../../src/log/logger.js";

// In-process tests provoke failures on purpose: the process's logger writes nothing in them (the
// test app sets LOG_LEVEL=silent too). test/logs.test.ts reads the log of a server process instead.
setLogLevel("silent");
