/**
 * What bench/run.ts starts as the server under test: `openroll serve` (the same startServer),
 * plus the ceiling and floor routes, which exist only here. BENCH_CEILING_FILE names the captured page.
 */
import { loadConfig } from '../src/config.ts';
import { closeOnSignals, startServer } from '../src/server.ts';
import { ceilingRoutes } from './ceiling.routes.ts';
import { floorRoutes } from './floor.routes.ts';

const file = process.env.BENCH_CEILING_FILE;
if (!file) throw new Error('BENCH_CEILING_FILE is not set');
const server = await startServer(loadConfig(process.env), { routes: [ceilingRoutes(file), floorRoutes] });
closeOnSignals(server);
console.log(`Openroll is listening on ${server.url} (database: ${server.database.description}).`);
