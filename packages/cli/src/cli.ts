import { main } from './main.js';
import { silenceSdkNodeVersionWarning } from './quiet-warnings.js';

silenceSdkNodeVersionWarning();
await main();
